"""Command line (`flask --app wsgi ...`): users, facilities, seeding. Commands commit once."""

import click
from flask import Flask
from flask.cli import AppGroup

from app.common.audit import acting_as
from app.extensions import db

users_cli = AppGroup("users", help="Create, deactivate and list users.")
facilities_cli = AppGroup("facilities", help="Create facilities.")
seed_cli = AppGroup("seed", help="Load the species catalogue or demo data.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "coordinator", "vet", "keeper", "viewer"]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--facility", "facilities", multiple=True, help="Facility code; repeat for several.")
def create_user_command(email, name, role, password, facilities):
    """Create a user (no prompt when every option is given)."""
    from app.auth.queries import get_facility_by_code
    from app.auth.services import AccountError, create_user

    facility_ids = []
    for code in facilities:
        facility = get_facility_by_code(code)
        if facility is None:
            raise click.BadParameter(f"no facility with code {code!r}", param_hint="--facility")
        facility_ids.append(facility.id)
    with acting_as("cli"):
        try:
            user = create_user(email=email, name=name, role=role, password=password, facility_ids=facility_ids)
        except AccountError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@users_cli.command("deactivate")
@click.option("--email", required=True)
def deactivate_user_command(email):
    """Deactivate a user; every open session of theirs ends at once."""
    from app.auth.queries import find_user_by_email
    from app.auth.services import deactivate_user

    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with email {email}.")
    with acting_as("cli"):
        deactivate_user(user)
        db.session.commit()
    click.echo(f"Deactivated {user.email}.")


@users_cli.command("list")
def list_users_command():
    """List every user with role, facilities and state."""
    from sqlalchemy import select

    from app.auth.models import User

    for user in db.session.execute(select(User).order_by(User.email)).scalars():
        codes = ",".join(f.code for f in user.facilities) or "*"
        state = "active" if user.is_active else "inactive"
        click.echo(f"{user.email}\t{user.name}\t{user.role}\t{codes}\t{state}")


@facilities_cli.command("create")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--kind", default="rescue_centre", type=click.Choice(["rescue_centre", "release_station", "sanctuary"]))
@click.option("--timezone", "timezone_name", default=None, help="IANA time zone (default: DEFAULT_TIMEZONE).")
@click.option("--province", default="")
def create_facility_command(code, name, kind, timezone_name, province):
    """Create a facility."""
    from flask import current_app

    from app.reference.services import ReferenceError, create_facility

    with acting_as("cli"):
        try:
            facility = create_facility(
                code=code, name=name, kind=kind, province=province,
                timezone=timezone_name or current_app.config["DEFAULT_TIMEZONE"],
            )
        except ReferenceError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
    click.echo(f"Created facility {facility.code} (id {facility.id}).")


@seed_cli.command("species")
def seed_species_command():
    """Load or update the species catalogue from app/reference/data/species.csv (idempotent)."""
    from app.reference.seed import seed_species

    with acting_as("cli"):
        created, updated = seed_species()
        db.session.commit()
    click.echo(f"Species: {created} created, {updated} updated.")


@seed_cli.command("quarantine-tests")
def seed_quarantine_tests_command():
    """Add the default quarantine tests per taxon class and primate genus (idempotent)."""
    from app.vet.seed import seed_quarantine_tests

    with acting_as("cli"):
        added = seed_quarantine_tests()
        db.session.commit()
    click.echo(f"Quarantine tests: {added} added.")


@seed_cli.command("release-criteria")
def seed_release_criteria_command():
    """Add the default release checklists for mammals, birds and reptiles (idempotent)."""
    from app.releases.seed import seed_release_criteria

    with acting_as("cli"):
        added = seed_release_criteria()
        db.session.commit()
    click.echo(f"Release criteria: {added} added.")


@seed_cli.command("demo")
def seed_demo_command():
    """A demo facility, enclosures and users (idempotent: does nothing the second time)."""
    from app.demo import seed_demo

    with acting_as("cli"):
        made = seed_demo()
        db.session.commit()
    click.echo("Demo data created." if made else "Demo data already present; nothing changed.")


def init_cli(app: Flask) -> None:
    from app.scheduler import scheduler_cli

    for group in (users_cli, facilities_cli, seed_cli, scheduler_cli):
        app.cli.add_command(group)
