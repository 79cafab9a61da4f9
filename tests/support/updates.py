"""One Idlib story in three articles: the first report, an edited copy of it (a wire rewrite with
a byline), and a later report of the same event with new people and places (a significant
update, for follow-up alerts)."""

from __future__ import annotations

FIRST = ("Airstrikes kill 12 in Syria's Idlib as Ariha market is hit", """\
Syrian government airstrikes hit a crowded market in the town of Ariha in Idlib province on Tuesday, killing at least 12 civilians, including three children, rescuers said.
The White Helmets civil defence group said its volunteers pulled survivors from the rubble of shops near the central mosque of Ariha after two strikes in the morning.
The Syrian Observatory for Human Rights, a Britain-based war monitor, put the death toll at 14 and said Russian jets had joined the raids.
Ariha lies near the M4 highway, which links Aleppo to Latakia and has been the front line of the last rebel-held enclave in northwest Syria.""")

COPY = ("UPDATE 1-Airstrikes kill 12 in Syria's Idlib",
        FIRST[1].replace("on Tuesday", "on Tuesday morning") + "\nReporting by Khalil Ashawi; Editing by Tom Perry")

UPDATE = ("Death toll in Ariha market strike rises to 21; UN condemns attack", """\
The death toll from Tuesday's airstrikes on a market in Ariha in Syria's Idlib province rose to 21 on Wednesday, the White Helmets said, as rescuers recovered more bodies from the rubble.
United Nations envoy Geir Pedersen condemned the strikes and called for an immediate investigation, while Martin Griffiths, the UN humanitarian chief, said hospitals in Idlib were overwhelmed.
Turkey's defence ministry said it had summoned Russian officials over the raids, which the Syrian Observatory for Human Rights blamed on Russian jets.
Ariha, near the M4 highway between Aleppo and Latakia, has been hit repeatedly since the ceasefire agreed in Sochi collapsed.""")
