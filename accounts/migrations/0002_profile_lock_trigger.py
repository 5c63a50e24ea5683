"""On PostgreSQL, a trigger refuses changes of locked identity fields that bypass the ORM.

It stops mistakes and careless raw SQL (a shell session, a data fix); whoever deliberately runs
`set_config('mojeid.identity_writes', …)` by hand has the database's own privileges anyway.

The profile services open it for their own transaction with
`set_config('mojeid.identity_writes', 'on', true)`. SQLite (the embedded development default)
relies on the model and queryset guards alone.
"""

from django.db import migrations

FIELDS = ["first_name", "last_name", "birth_date", "street", "city", "postal_code", "country",
          "organisation"]

CREATE = """
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
DROP TRIGGER IF EXISTS accounts_profile_lock_guard ON accounts_profile;
CREATE TRIGGER accounts_profile_lock_guard BEFORE INSERT OR UPDATE OR DELETE ON accounts_profile
  FOR EACH ROW EXECUTE FUNCTION accounts_profile_lock_guard();
""" % {"changed": " OR ".join(f"NEW.{f} IS DISTINCT FROM OLD.{f}" for f in FIELDS)}

DROP = """
DROP TRIGGER IF EXISTS accounts_profile_lock_guard ON accounts_profile;
DROP FUNCTION IF EXISTS accounts_profile_lock_guard();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
