"""Grant families that existed before object permissions to their case manager's caseload.

Before this migration, a case manager saw every family of their organisation; afterwards
only granted ones. Families with a case manager keep working for that case manager.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_existing(apps, schema_editor):
    app_config = apps.get_app_config("casemgmt")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Family = apps.get_model("casemgmt", "Family")
    Group = apps.get_model("auth", "Group")
    Caseload = apps.get_model("casemgmt", "Caseload")
    Permission = apps.get_model("auth", "Permission")
    FamilyGroupObjectPermission = apps.get_model("casemgmt", "FamilyGroupObjectPermission")
    perms = list(
        Permission.objects.filter(
            content_type__app_label="casemgmt",
            content_type__model="family",
            codename__in=("view_family", "change_family"),
        )
    )
    for family in Family.objects.exclude(case_manager=None).select_related("case_manager").iterator():
        owner = family.case_manager
        caseload = Caseload.objects.filter(owner=owner).first()
        if caseload is None:
            group = Group.objects.create(name=f"caseload:{owner.pk}")
            caseload = Caseload.objects.create(owner=owner, group=group)
            owner.groups.add(group)
        for perm in perms:
            FamilyGroupObjectPermission.objects.get_or_create(
                group_id=caseload.group_id, permission=perm, content_object=family
            )


class Migration(migrations.Migration):
    dependencies = [
        ("casemgmt", "0002_access"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_existing, migrations.RunPython.noop)]
