"""The designated teacher's review app at /review (issue 10).

- `accounts`: argon2id passwords, the password policy, logging in with a throttle.
- `sessions`: server-side staff sessions (30 idle minutes, 12 hours in all).
- `scope`: `StaffContext` and the ONE place that scopes queries by school and role.
- `auth`: FastAPI dependencies (`current_staff`, `require_roles`, `check_csrf`).
- `routes`: the pages (login, logout, home).
"""
