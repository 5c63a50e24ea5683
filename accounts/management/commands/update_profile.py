"""Edit a profile from the command line: `manage.py update_profile jana city=Brno`.

Goes through the same service as the settings page, so a locked profile refuses identity changes.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.forms import ProfileForm
from accounts.models import Profile, ProfileLocked, User
from accounts.services.profile import EDITABLE_FIELDS, update_profile


class Command(BaseCommand):
    help = "Change profile fields: update_profile USERNAME field=value [field=value …]"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("changes", nargs="+", metavar="field=value")

    def handle(self, *args, username: str, changes: list[str], **options):
        try:
            user = User.objects.get(username=username.lower())
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.", returncode=2) from None
        values = {}
        for change in changes:
            name, sep, value = change.partition("=")
            if not sep or name not in EDITABLE_FIELDS:
                raise CommandError(
                    f"{change!r}: expected field=value with a field of "
                    f"{', '.join(sorted(EDITABLE_FIELDS))}.",
                    returncode=2,
                )
            values[name] = value
        # Validate exactly as the settings page does (lengths, script, dates, postal code, lock).
        profile = Profile.objects.get(pk=user.pk)
        initial = {name: getattr(profile, name) for name in EDITABLE_FIELDS}
        form = ProfileForm({**initial, **values}, instance=profile)
        if not form.is_valid():
            errors = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in form.errors.items())
            raise CommandError(errors, returncode=2)
        try:
            changed = update_profile(user, form.cleaned_data, actor=None)
        except (ProfileLocked, ValidationError) as error:
            raise CommandError(str(error), returncode=2) from None
        self.stdout.write(f"Changed: {', '.join(changed) or 'nothing'}.")
