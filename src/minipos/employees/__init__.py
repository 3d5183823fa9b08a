"""Employees: cashiers and managers who sign in at a station with a PIN (docs/employees.md)."""
