from django.conf import settings
from django.db import migrations, models


def tas_leave_the_admin(apps, schema_editor):
    """TAs have the staff pages, not Django's admin (is_staff): instructors only."""
    Profile = apps.get_model("service", "Profile")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    tas = Profile.objects.filter(role="ta").values("user_id")
    User.objects.filter(pk__in=tas, is_superuser=False).update(is_staff=False)


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0002_override'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='submission',
            name='regrade_pending',
            field=models.BooleanField(default=False, help_text='graded again: its result counts until the new one is stored'),
        ),
        migrations.RunPython(tas_leave_the_admin, migrations.RunPython.noop),
    ]
