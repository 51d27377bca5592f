"""Daily husbandry: care schedules, the keeper's round, care logs and weights."""
