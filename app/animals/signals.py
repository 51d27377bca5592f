"""Signals other domains listen to, so that animals never imports them (imports point one way).

Receivers run inside the sender's transaction and may only flush.
"""

from blinker import Namespace

_signals = Namespace()

# Sent with animals=[Animal, ...], user=User | None after new records are flushed.
animals_admitted = _signals.signal("animals-admitted")
# Sent with parent=Animal, child=Animal, user=User | None after a split is flushed.
animal_split = _signals.signal("animal-split")
# Sent with animal=Animal, outcome=Outcome, user=User | None after an outcome is flushed;
# animal.status tells whether the record has now left care altogether.
animal_outcome = _signals.signal("animal-outcome")
# Sent with animal=Animal, from_facility_id=int, user=User | None after an animal record moved to
# another facility of the network (it stays in care, with its history).
animal_transferred = _signals.signal("animal-transferred")
