from accounts.models import User


def test_a_chinese_name_reads_family_name_first_without_a_space():
    assert User(first_name="浩", last_name="黄").get_full_name() == "黄浩"


def test_a_western_name_reads_given_name_first():
    assert User(first_name="Grace", last_name="Ho").get_full_name() == "Grace Ho"
