"""What each pipeline step records. Forms, the rules, the importer and the services all read this table."""

from recruitment.models import Stage

# Stage -> the Candidate fields recorded when the person enters that stage (first one is the step's date).
STAGE_FIELDS: dict[str, list[str]] = {
    Stage.OUTSTANDING: ["source_date"],
    Stage.SYMPATHISER: ["sympathiser_date"],
    Stage.COURSE_DONE: ["certificate_date", "certificate_number", "awareness_class"],
    Stage.DOSSIER: ["application_date", "personal_history_date", "personal_history_verified_date", "opinions_date"],
    Stage.BRANCH_RESOLUTION: ["branch_resolution_date", "branch_votes_for", "branch_members_summoned"],
    Stage.BASE_RESOLUTION: ["base_resolution_date", "base_votes_for", "base_committee_members"],
    Stage.ADMITTED: ["decision_date", "decision_number", "deciding_org", "over_age_approval_date"],
    Stage.PROBATIONARY: ["ceremony_date", "new_member_course_date"],
    Stage.FULL_MEMBER: [
        "recognition_branch_resolution_date",
        "recognition_votes_for",
        "recognition_members_summoned",
        "recognition_decision_number",
        "recognition_decision_date",
    ],
    Stage.REMOVED: ["exit_date", "exit_reason"],
    Stage.NOT_ADMITTED: ["exit_date", "exit_reason"],
    Stage.STRUCK_OFF: ["exit_date", "exit_reason"],
}

# Fields a form may leave blank for a step (everything else listed above is required).
OPTIONAL_FIELDS = {"awareness_class", "over_age_approval_date", "new_member_course_date", "personal_history_verified_date"}


def step_date_field(stage: str) -> str:
    return STAGE_FIELDS[stage][0]
