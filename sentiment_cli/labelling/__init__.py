"""The labelling loop: ``label`` chooses the tweets that teach most, takes answers on a
local page, retrains as it goes, and loses nothing (``--simulate`` measures it)."""
