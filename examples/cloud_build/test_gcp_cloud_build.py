import unittest

from gcp_cloud_build import build_step, docker_build_config


class TestGcpCloudBuild(unittest.TestCase):
    def test_build_step(self):
        self.assertEqual(
            build_step("gcr.io/cloud-builders/docker", ["build", "."]),
            {"name": "gcr.io/cloud-builders/docker", "args": ["build", "."]},
        )

    def test_build_step_with_id(self):
        self.assertEqual(
            build_step("python", ("-m", "pytest"), step_id="tests"),
            {"name": "python", "args": ["-m", "pytest"], "id": "tests"},
        )

    def test_docker_build_config(self):
        expected = {
            "steps": [
                {
                    "name": "gcr.io/cloud-builders/docker",
                    "args": ["build", "-t", "gcr.io/my-project/my-image", "."],
                }
            ],
            "images": ["gcr.io/my-project/my-image"],
        }
        self.assertEqual(docker_build_config("my-project", "my-image"), expected)

    def test_docker_build_config_with_context(self):
        config = docker_build_config("p", "img", context="app/")
        self.assertEqual(config["steps"][0]["args"], ["build", "-t", "gcr.io/p/img", "app/"])
        self.assertEqual(config["images"], ["gcr.io/p/img"])


if __name__ == '__main__':
    unittest.main()
