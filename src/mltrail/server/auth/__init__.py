"""Authentication and authorization for ``mltrail server --auth``.

* ``passwords``: memory-hard hashing (argon2id) and the strength rules;
* ``store``: users, API tokens, grants per experiment and registered model, the audit log,
  in tables of their own beside the tracking schema;
* ``rules``: what every route needs (READ, EDIT, MANAGE on which resource; admin; public);
  a route without a rule is refused;
* ``middleware``: who is asking (HTTP basic, bearer token) and whether they may;
* ``api``: the REST API of MLflow's basic-auth app (users, experiment and registered-model
  permissions), so scripts written for it work.
"""
