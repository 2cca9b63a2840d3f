"""Conan recipe for building Petit outside Debian 12.

The Debian packages listed in the README are the tested path; this recipe lists the same
dependencies for other systems:

    conan install conan --output-folder=build/conan --build=missing -s build_type=Release
    cmake --preset release -DCMAKE_TOOLCHAIN_FILE=build/conan/conan_toolchain.cmake
    cmake --build --preset release

cmake/FindSOCI.cmake finds Conan's SOCI the same way it finds Debian's (SOCI_ROOT or
CMAKE_PREFIX_PATH), so the build files need no changes.
"""
from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.gnu import PkgConfigDeps


class PetitConan(ConanFile):
    name = "petit"
    version = "0.1.0"
    license = "Apache-2.0"
    description = "A native workflow orchestrator: YAML jobs, DAGs of plugin task types, cron schedules"
    settings = "os", "compiler", "build_type", "arch"
    exports_sources = "../*"

    def requirements(self):
        # Versions match Debian 12 (bookworm) where a recipe exists, so both paths behave alike.
        self.requires("boost/1.83.0")
        self.requires("libyaml/0.2.5")  # found through pkg-config (yaml-0.1), as on Debian
        self.requires("soci/4.0.3")
        self.requires("poco/1.12.4")
        self.requires("date/3.0.1")
        self.requires("sqlite3/3.40.1")
        self.requires("libpq/15.4")

    def build_requirements(self):
        self.test_requires("gtest/1.12.1")
        self.test_requires("yaml-cpp/0.7.0")  # the tests' reference tree (yaml_document_test)
        self.test_requires("benchmark/1.7.1")

    def configure(self):
        self.options["soci/*"].with_sqlite3 = True
        self.options["soci/*"].with_postgresql = True
        self.options["date/*"].use_system_tz_db = True

    def layout(self):
        cmake_layout(self, src_folder="..")

    def generate(self):
        CMakeDeps(self).generate()
        # yaml-0.1.pc for pkg_check_modules; CMakeToolchain puts this folder on PKG_CONFIG_PATH.
        PkgConfigDeps(self).generate()
        CMakeToolchain(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        CMake(self).install()
