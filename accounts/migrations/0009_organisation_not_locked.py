"""The organisation is no register field: a locked profile keeps it editable (issue 10).

On PostgreSQL the lock's trigger (migration 0002) names the guarded columns in its function; the
function is replaced with the list without `organisation` (and put back with it on reversal).
Only the function changes; the trigger that calls it stays.
"""

from django.db import migrations

LOCKED = ["first_name", "last_name", "birth_date", "street", "city", "postal_code", "country"]

FUNCTION = """
CREATE OR REPLACE FUNCTION accounts_profile_lock_guard() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('mojeid.identity_writes', true), '') = 'on' THEN
    RETURN COALESCE(NEW, OLD);
  END IF;
  IF TG_OP = 'DELETE' THEN
    IF OLD.locked_at IS NOT NULL THEN
      RAISE EXCEPTION 'profile %% is locked: unlock it before deleting the account', OLD.user_id
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.locked_at IS NOT NULL THEN
      RAISE EXCEPTION 'profile %% can be locked only by the profile services', NEW.user_id
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.locked_at IS DISTINCT FROM OLD.locked_at THEN
    RAISE EXCEPTION 'profile %% can be locked or unlocked only by the profile services', OLD.user_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.locked_at IS NOT NULL AND (%(changed)s) THEN
    RAISE EXCEPTION 'profile %% is locked: identity fields come from the base register only', OLD.user_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


def _guarding(fields):
    sql = FUNCTION % {"changed": " OR ".join(f"NEW.{f} IS DISTINCT FROM OLD.{f}" for f in fields)}

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_audit_registration_email_taken")]

    operations = [
        migrations.RunPython(_guarding(LOCKED), _guarding([*LOCKED, "organisation"])),
    ]
