"""File and tree digests."""

import hashlib

from dfer.io.hashing import sha256, tree_sha256


def test_sha256_is_hashlibs():
    assert sha256(__file__) == hashlib.sha256(open(__file__, "rb").read()).hexdigest()


def test_a_tree_digest_depends_on_names_and_bytes_not_on_where_the_tree_lies(tmp_path):
    def tree(root, files):
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        return tree_sha256(root)

    files = {"b.txt": b"two", "a/x.jpg": b"\xff\xd8one", "a/y/z.bin": b""}
    first = tree(tmp_path / "first", files)
    assert tree(tmp_path / "second folder #2", dict(reversed(files.items()))) == first
    assert tree(tmp_path / "extra", {**files, "c.txt": b""}) != first
    assert tree(tmp_path / "renamed", {"B.txt" if name == "b.txt" else name: data for name, data in files.items()}) != first
    assert tree(tmp_path / "changed", {**files, "b.txt": b"twO"}) != first
    (tmp_path / "empty").mkdir()
    assert tree_sha256(tmp_path / "empty") == hashlib.sha256().hexdigest()
