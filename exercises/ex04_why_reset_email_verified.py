"""Exercise 4: why does changing the email reset ``email_verified`` to 0?

Decide, for each statement, whether it is true (``True``) or false (``False``). Then explain
in your own words in ``EXPLANATION``: your instructor reads it; it is not auto-scored.
Notebook ``04_why_reset_email_verified`` walks through the attack before you answer.
"""

STATEMENTS: dict[str, str] = {
    "inbox_unproven": "Right after the change, nobody has shown that the person who typed the"
    " new address can read mail sent to it.",
    "recovery_mail": "If the flag stayed 1, password-reset mail would go to an address whose"
    " owner was never proven.",
    "trusting_features": "Features that trust verified addresses, such as joining an"
    " organisation by email domain or linking a single-sign-on identity by email, would trust"
    " an address nobody proved.",
    "typo": "A typo in the new address, left verified, would hand a stranger who owns the"
    " mistyped address a route into the account.",
    "step_up_proves_inbox": "The recent confirmation (step-up) already proves that the user owns"
    " the new inbox, so resetting the flag is only a formality.",
    "hash_tied_to_email": "The flag must be reset because the password hash is derived from the"
    " email address and becomes invalid.",
    "signs_out": "Setting email_verified to 0 signs the user out of all their other sessions.",
    "old_address_keeps_recovery": "While the new address is unverified, password-reset mail"
    " keeps going to the old address, so the reset changes nothing for security.",
}

# TODO(task 1): True or False for every statement.
ANSWERS: dict[str, bool | None] = {
    "inbox_unproven": None,
    "recovery_mail": None,
    "trusting_features": None,
    "typo": None,
    "step_up_proves_inbox": None,
    "hash_tied_to_email": None,
    "signs_out": None,
    "old_address_keeps_recovery": None,
}

EXPLANATION = """
TODO(task 1): in a few sentences, why must the flag go back to 0?
"""
