from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0002_override'),
    ]

    operations = [
        migrations.AddField(
            model_name='submission',
            name='regrade_pending',
            field=models.BooleanField(default=False, help_text='graded again: its result counts until the new one is stored'),
        ),
    ]
