def test_home_page_is_german_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="de">' in response.get_data(as_text=True)
