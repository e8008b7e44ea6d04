"""The catalogue: sites, their machines and rooms, and which sites a caller may watch."""

from __future__ import annotations

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from ..errors import Forbidden, NotFound
from ..models import Resource, ResourceKind, Site
from .accounts import Principal


def list_sites(*, session: Session) -> list[Site]:
    """Every site, by id."""
    return list(session.exec(select(Site).order_by(col(Site.id))))


def load_site(*, session: Session, slug: str) -> Site:
    """The site with this slug, else NotFound."""
    site = session.exec(select(Site).where(Site.slug == slug)).first()
    if site is None:
        raise NotFound(f"no site {slug!r}")
    return site


def list_resources(
    *, session: Session, site: str | None = None, kind: ResourceKind | None = None
) -> list[Resource]:
    """The active machines and rooms, of one site (by slug) and one kind if given, by id."""
    statement: SelectOfScalar[Resource] = select(Resource).where(col(Resource.active).is_(True))
    if site:
        statement = statement.join(Site, col(Site.id) == col(Resource.site_id)).where(
            Site.slug == site
        )
    if kind:
        statement = statement.where(Resource.kind == kind)
    return list(session.exec(statement.order_by(col(Resource.id))))


def resources_with_sites(
    *, session: Session, site: str | None = None, kind: ResourceKind | None = None
) -> list[tuple[Resource, Site]]:
    """The active machines and rooms with their sites, filtered as `list_resources`."""
    statement = (
        select(Resource, Site)
        .join(Site, col(Site.id) == col(Resource.site_id))
        .where(col(Resource.active).is_(True))
    )
    if site:
        statement = statement.where(Site.slug == site)
    if kind:
        statement = statement.where(Resource.kind == kind)
    return list(session.exec(statement.order_by(col(Resource.id))).all())


def load_resource(*, session: Session, resource_id: int) -> tuple[Resource, Site]:
    """An active resource and its site, else NotFound."""
    row = session.exec(
        select(Resource, Site)
        .join(Site, col(Site.id) == col(Resource.site_id))
        .where(Resource.id == resource_id)
    ).first()
    if row is None or not row[0].active:
        raise NotFound(f"no resource {resource_id}")
    return row


def visible_sites(
    *, session: Session, principal: Principal, site: str | None = None
) -> list[Site] | None:
    """The sites whose live state `principal` may watch, narrowed to the slug `site` if given.

    Operators see the sites they operate, admins every site; None means every site with
    nothing left out (an admin not narrowing), so that records of unknown sites show too.
    Anyone else, or an operator naming a site not theirs, is Forbidden.
    """
    if not principal.is_staff:
        raise Forbidden("only operators and admins see live status")
    statement = select(Site).order_by(col(Site.id))
    if site is not None:
        statement = statement.where(Site.slug == site)
    sites = [s for s in session.exec(statement) if s.id is not None and principal.operates(s.id)]
    if site is not None and not sites:
        raise Forbidden(f"you do not operate site {site!r}")
    return None if principal.admin and site is None else sites


def watched_resource(
    *, session: Session, principal: Principal, resource_id: int
) -> tuple[Resource, Site]:
    """A resource and its site, if `principal` may read its telemetry (operates the site)."""
    resource, site = load_resource(session=session, resource_id=resource_id)
    if site.id is None or not principal.operates(site.id):
        raise Forbidden("only the site's operators and admins see telemetry")
    return resource, site
