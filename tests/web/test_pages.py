import json
import re

from dfer.web import pages


def test_values_are_escaped_in_html_and_in_the_scripts_json():
    hostile = "</script><script>alert(1)</script>&"
    page = pages.copy_list(hostile, [{"copy_id": "<b>", "total": 3, "answered": 1, "submitted": False}])
    assert "<script>alert" not in page and "&lt;/script&gt;" in page and 'href="/copy/&lt;b&gt;"' in page
    page = pages.labelling(hostile, [("joy", "happy"), ("a&b", "sad")], pages.shortcuts([("joy", "happy"), ("a&b", "sad")]))
    config = re.search(r'<script type="application/json" id="config">(.*?)</script>', page, re.S).group(1)
    assert json.loads(config) == {"copy": hostile, "keys": {"a": "joy", "b": "a&b", "0": "PASS"}}
    assert "<script>alert" not in page


def test_shortcuts_follow_the_vocabulary_order():
    choices = [("rage", "angry"), ("joy", "happy"), ("calm", "neutral")]
    assert pages.shortcuts(choices) == {"a": "rage", "b": "joy", "c": "calm", "0": "PASS"}
