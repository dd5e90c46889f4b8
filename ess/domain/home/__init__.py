"""The personal start page: what each person comes for, composed by role from the use cases of the other areas."""
