"""A check shared by the API tests: a list endpoint reads with as many queries for 20 rows as for 1."""


def assert_same_count_for_1_and_20(client, headers, count_queries, url, add_one):
    """add_one(n) makes the n-th row; the list at `url` must cost the same with 1 row and with 20."""
    client.get("/api/v1/auth/me", headers=headers)  # first use of a token records last_used_at
    add_one(0)
    with count_queries() as one:
        assert client.get(url, headers=headers).json["meta"]["total"] == 1
    for n in range(1, 20):
        add_one(n)
    with count_queries() as twenty:
        assert client.get(url, headers=headers).json["meta"]["total"] == 20
    assert one.count == twenty.count, (one, twenty)
