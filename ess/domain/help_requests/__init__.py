"""Help requests: a person asks HR or IT for help from any page or error, follows the answers, and says whether it was
solved; HR and IT work their queues, each seeing only its own topics."""
