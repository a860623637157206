"""The roster endpoints are described in the OpenAPI document."""


def test_openapi_lists_the_roster_endpoints(world, as_user):
    response = as_user(world.admin).get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/schools/{school}/students/{student_id}/guardians/{link_id}" in paths
    assert set(paths["/api/v1/schools/{school}/students"]) == {"get", "post"}
