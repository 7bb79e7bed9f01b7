"""What the card tells the features built on it. The card app imports no feature: where a change
to a card must end something a feature keeps, it sends a signal and the feature listens."""

from django.dispatch import Signal

# A child leaves every buddy pair (结对) they are in: they stopped being (or became) left-behind,
# or left the school. Sent inside the card's transaction with `child`, `by` (the user) and
# `reason` (Chinese, kept on the pair's history). Received by guanai.pairing.
child_leaves_pairs = Signal()
