"""Writes. Every service authorises its acting user and audits itself, whoever calls it.

The idiom (Zulip's ``do_*`` actions)::

    @audited_write(Activity.CASE_MANAGEMENT)       # one transaction; entries name actor + activity
    def goal_update(*, goal: Goal, acting_user: User, **changes: Any) -> Goal:
        policies.require_case_access(acting_user, goal.family, goal)   # foreign = missing: 404
        ...

``tests/casemgmt/test_service_authorisation.py`` enumerates the public functions of this
package and of ``privacy.rights``: a new service must refuse a user of another district and
an unassigned colleague there, or the test fails.
"""
