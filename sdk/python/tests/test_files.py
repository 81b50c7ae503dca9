"""sandbox.files: binary-safe 50 MB round trip without buffering, text, list, exists, remove."""

import hashlib
import io
import os
import tempfile
import tracemalloc
import unittest

from codeint import ConflictError, EntryInfo, FileStream, NotFoundError, Sandbox, WriteInfo

try:
    from . import support
except ImportError:
    import support

MB = 1024 * 1024


class LargeFilesTest(support.SandboxTestCase):
    # Files live in a tmpfs charged to the sandbox's memory: leave room for 50 MB.
    create_options = {"resources": {"memory": 1024}}

    def test_50_mb_round_trip_is_binary_safe_and_streamed(self) -> None:
        digest = hashlib.sha256()
        with tempfile.NamedTemporaryFile(delete=False) as source:
            for _ in range(50):
                block = os.urandom(MB)
                digest.update(block)
                source.write(block)
        try:
            tracemalloc.start()
            with open(source.name, "rb") as f:
                written = self.sandbox.files.write("data/big.bin", f)
            _, upload_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            os.unlink(source.name)
        self.assertIsInstance(written, WriteInfo)
        self.assertEqual(written, WriteInfo(path="/home/user/data/big.bin", size=50 * MB))
        self.assertLess(upload_peak, 10 * MB, "the upload was buffered in memory")

        # The sandbox sees the same bytes.
        check = self.sandbox.commands.run("sha256sum data/big.bin")
        self.assertEqual(check.stdout.split()[0], digest.hexdigest())

        tracemalloc.start()
        received = hashlib.sha256()
        size = 0
        chunks = 0
        with self.sandbox.files.read("data/big.bin", format="stream") as stream:
            self.assertIsInstance(stream, FileStream)
            self.assertEqual(stream.size, 50 * MB)
            for chunk in stream:
                self.assertIsInstance(chunk, bytes)
                received.update(chunk)
                size += len(chunk)
                chunks += 1
        _, download_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.assertEqual(size, 50 * MB)
        self.assertGreater(chunks, 10)
        self.assertEqual(received.hexdigest(), digest.hexdigest())
        self.assertLess(download_peak, 10 * MB, "the download was buffered in memory")

        whole = self.sandbox.files.read("data/big.bin", format="bytes")
        self.assertEqual(hashlib.sha256(whole).hexdigest(), digest.hexdigest())
        self.sandbox.files.remove("data/big.bin")


class FilesTest(support.SandboxTestCase):
    def test_every_byte_value_survives(self) -> None:
        data = bytes(range(256)) * 64 + b"\r\n\x00\xff"
        self.assertEqual(self.sandbox.files.write("bytes.bin", data).size, len(data))
        self.assertEqual(self.sandbox.files.read("bytes.bin", format="bytes"), data)
        self.assertEqual(self.sandbox.files.read("/home/user/bytes.bin", format="bytes"), data)

    def test_text_format(self) -> None:
        text = "héllo, wörld ✓\nline two\n"
        self.sandbox.files.write("notes/hello.txt", text)
        self.assertEqual(self.sandbox.files.read("notes/hello.txt"), text)
        self.assertEqual(self.sandbox.files.read("notes/hello.txt", format="text"), text)
        self.assertEqual(self.sandbox.run_code("open('notes/hello.txt').read()").text, repr(text))
        self.sandbox.files.write("notes/from-text-file.txt", io.StringIO(text))
        self.assertEqual(self.sandbox.files.read("notes/from-text-file.txt"), text)

    def test_streamed_uploads_of_unknown_size(self) -> None:
        chunks = [b"a" * 100_000, b"b" * 100_000, b"c"]
        written = self.sandbox.files.write("chunked.bin", (c for c in chunks))
        self.assertEqual(written.size, 200_001)
        self.assertEqual(self.sandbox.files.read("chunked.bin", format="bytes"), b"".join(chunks))

    def test_code_sees_uploads_and_sdk_sees_code_output(self) -> None:
        self.sandbox.files.write("input.csv", "a,b\n1,2\n3,4\n")
        self.sandbox.run_code(
            "import pandas as pd\npd.read_csv('input.csv').sum().to_csv('output.csv')"
        )
        self.assertEqual(self.sandbox.files.read("output.csv"), ",0\na,4\nb,6\n")

    def test_list_exists_remove(self) -> None:
        self.sandbox.files.write("tree/one.txt", "1")
        self.sandbox.files.write("tree/sub/two.txt", "22")
        entries = self.sandbox.files.list("tree")
        self.assertTrue(all(isinstance(e, EntryInfo) for e in entries))
        by_name = {e.name: e for e in entries}
        self.assertEqual(sorted(by_name), ["one.txt", "sub"])
        self.assertEqual(by_name["one.txt"].type, "file")
        self.assertEqual(by_name["one.txt"].size, 1)
        self.assertEqual(by_name["one.txt"].path, "/home/user/tree/one.txt")
        self.assertIsNotNone(by_name["one.txt"].modified_at)
        self.assertEqual(by_name["sub"].type, "dir")
        self.assertIn("tree", [e.name for e in self.sandbox.files.list()])

        self.assertTrue(self.sandbox.files.exists("tree"))
        self.assertTrue(self.sandbox.files.exists("tree/one.txt"))
        self.assertTrue(self.sandbox.files.exists("/home/user/tree/sub/two.txt"))
        self.assertFalse(self.sandbox.files.exists("tree/missing.txt"))

        self.sandbox.files.remove("tree/one.txt")
        self.assertFalse(self.sandbox.files.exists("tree/one.txt"))
        self.sandbox.files.remove("tree")
        self.assertFalse(self.sandbox.files.exists("tree/sub/two.txt"))
        self.assertFalse(self.sandbox.files.exists("tree"))

    def test_errors(self) -> None:
        with self.assertRaises(NotFoundError):
            self.sandbox.files.read("missing.txt")
        with self.assertRaises(NotFoundError):
            self.sandbox.files.list("missing-folder")
        with self.assertRaises(NotFoundError):
            self.sandbox.files.remove("missing.txt")
        self.sandbox.files.write("folder/file.txt", "x")
        with self.assertRaises(ConflictError):
            self.sandbox.files.read("folder")
        with self.assertRaises(ValueError):
            self.sandbox.files.read("folder/file.txt", format="blob")

    def test_exists_on_a_stopped_sandbox_raises(self) -> None:
        other = Sandbox.create()
        try:
            other.files.write("here.txt", "x")
            other.kill()
            with self.assertRaises(ConflictError):
                other.files.exists("here.txt")
        finally:
            support.kill_quietly(other)


if __name__ == "__main__":
    unittest.main()
