"""Veterinary care: exams, problems, prescriptions and their doses, lab results, quarantine, deaths."""
