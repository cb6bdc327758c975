"""The scheme's fixed names, defined once: the four layers and the appraisal states that matter to rules.

Plain constants (no frappe): the engine, the generator, the services and the permission hooks import them
from here.
"""

LAYERS = ("Management", "Collection", "Risk Control", "Customer Service")

# appraisal states: the appraisee writes in Self Review and reads his results once they are published
SELF_REVIEW = "Self Review"
PUBLISHED_STATES = ("Published", "Acknowledged", "Appealed")
