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
    # BEGIN SOLUTION
    "inbox_unproven": True,
    "recovery_mail": True,
    "trusting_features": True,
    "typo": True,
    "step_up_proves_inbox": False,
    "hash_tied_to_email": False,
    "signs_out": False,
    "old_address_keeps_recovery": False,
    # END SOLUTION
    # STUB "inbox_unproven": None,
    # STUB "recovery_mail": None,
    # STUB "trusting_features": None,
    # STUB "typo": None,
    # STUB "step_up_proves_inbox": None,
    # STUB "hash_tied_to_email": None,
    # STUB "signs_out": None,
    # STUB "old_address_keeps_recovery": None,
}

# BEGIN SOLUTION
EXPLANATION = """
Verification proves one thing: the account's owner can read mail at that address. A new address
has not been proven, so the flag must drop to 0 until the link sent there is clicked. Otherwise
everything that trusts a verified address (recovery mail, domain auto-join, SSO linking) would
trust an inbox that may belong to someone else: a typo, or an attacker's target address.
"""
# END SOLUTION
# STUB EXPLANATION = """
# STUB TODO(task 1): in a few sentences, why must the flag go back to 0?
# STUB """
