from accounts.models import User


def test_a_chinese_name_reads_family_name_first_without_a_space():
    assert User(first_name="浩", last_name="黄").get_full_name() == "黄浩"


def test_a_western_name_reads_given_name_first():
    assert User(first_name="Grace", last_name="Ho").get_full_name() == "Grace Ho"


def test_a_chinese_user_is_greeted_by_the_whole_name():
    assert User(first_name="浩", last_name="黄", username="huang.hao").greeting_name == "黄浩"


def test_a_western_user_is_greeted_by_the_given_name():
    assert User(first_name="Grace", last_name="Ho", username="grace").greeting_name == "Grace"


def test_a_user_without_a_name_is_greeted_by_the_username():
    assert User(username="wang.wei").greeting_name == "wang.wei"
    assert User(last_name="Ho", username="ho").greeting_name == "Ho"
