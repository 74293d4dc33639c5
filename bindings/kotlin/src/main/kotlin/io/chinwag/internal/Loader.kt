package io.chinwag.internal

import com.sun.jna.Native
import com.sun.jna.NativeLibrary
import com.sun.jna.Platform
import io.chinwag.AbiVersionException
import io.chinwag.LibraryNotFoundException
import java.io.File

/**
 * Finds and loads libchinwag, once per process. Order:
 *
 * 1. `-Dchinwag.library.path=FILE`, else the environment variable `CHINWAG_LIBRARY=FILE`: an
 *    explicit choice; nothing else is tried when it is set (a wrong path is an error, not a
 *    fallback).
 * 2. Each directory of `jna.library.path`.
 * 3. The system: `dlopen("libchinwag.so")` (LD_LIBRARY_PATH, the run path, the linker cache).
 * 4. The copy bundled in the jar (`linux-x86-64/libchinwag.so`, extracted by JNA to a temporary
 *    file), unless `-Dchinwag.library.bundled=false`.
 *
 * A candidate that cannot be loaded, is not a Chinwag library or implements another ABI version
 * is skipped with its reason; when none works the exception lists every attempt.
 */
internal object Loader {
    const val PATH_PROPERTY = "chinwag.library.path"
    const val ENV = "CHINWAG_LIBRARY"
    const val BUNDLED_PROPERTY = "chinwag.library.bundled"

    /** What was loaded: the file and how it was found. */
    class Loaded(val path: String, val source: String)

    @Volatile private var loaded: Loaded? = null

    fun ensure(): Loaded {
        loaded?.let { return it }
        synchronized(this) {
            loaded?.let { return it }
            val l = load()
            loaded = l
            return l
        }
    }

    private fun load(): Loaded {
        check(Native.POINTER_SIZE == 8 && Native.SIZE_T_SIZE == 8) {
            "the Chinwag binding needs a 64-bit JVM (size_t and pointers of 8 bytes)"
        }
        val attempts = mutableListOf<Pair<String, String>>()
        val explicit = System.getProperty(PATH_PROPERTY)?.takeIf { it.isNotEmpty() }
            ?.let { it to "-D$PATH_PROPERTY" }
            ?: System.getenv(ENV)?.takeIf { it.isNotEmpty() }?.let { it to "\$$ENV" }
        if (explicit != null) {
            val (path, how) = explicit
            tryFile(File(path), how, attempts)?.let { return it }
            fail(attempts)
        }
        val jnaPath = System.getProperty("jna.library.path").orEmpty()
        for (dir in jnaPath.split(File.pathSeparator).filter { it.isNotEmpty() }) {
            val f = File(dir, System.mapLibraryName("chinwag"))
            if (!f.exists()) {
                attempts += "$f (jna.library.path)" to "no such file"
                continue
            }
            tryFile(f, "jna.library.path", attempts)?.let { return it }
        }
        trySystem(attempts)?.let { return it }
        if (System.getProperty(BUNDLED_PROPERTY, "true") != "false") {
            val what = "${Platform.RESOURCE_PREFIX}/${System.mapLibraryName("chinwag")} (bundled in the jar)"
            val extracted = try {
                Native.extractFromResourcePath("chinwag", Loader::class.java.classLoader)
            } catch (e: Exception) {
                attempts += what to "not in the jar (${e.message?.lineSequence()?.firstOrNull()})"
                null
            }
            if (extracted != null) tryFile(extracted, "bundled", attempts)?.let { return it }
        } else {
            attempts += "the jar's bundled copy" to "disabled by -D$BUNDLED_PROPERTY=false"
        }
        fail(attempts)
    }

    private fun fail(attempts: List<Pair<String, String>>): Nothing {
        val abi = attempts.filter { it.second.startsWith("ABI version") }
        val list = attempts.joinToString("\n") { "  - ${it.first}: ${it.second}" }
        if (abi.isNotEmpty()) {
            throw AbiVersionException(
                "libchinwag implements another C ABI than this binding (ABI version ${C.CHINWAG_ABI_VERSION}); tried:\n$list",
                attempts,
            )
        }
        throw LibraryNotFoundException(
            "libchinwag not found; set -D$PATH_PROPERTY or \$$ENV to the library file, or add its " +
                "directory to jna.library.path or LD_LIBRARY_PATH; tried:\n$list",
            attempts,
        )
    }

    private fun tryFile(f: File, how: String, attempts: MutableList<Pair<String, String>>): Loaded? {
        val what = "${f.path} ($how)"
        if (!f.exists()) {
            attempts += what to "no such file"
            return null
        }
        val lib = try {
            NativeLibrary.getInstance(f.absolutePath)
        } catch (e: UnsatisfiedLinkError) {
            attempts += what to "cannot be loaded: ${e.message?.lineSequence()?.firstOrNull()}"
            return null
        }
        return accept(lib, what, how, attempts)
    }

    private fun trySystem(attempts: MutableList<Pair<String, String>>): Loaded? {
        val what = "${System.mapLibraryName("chinwag")} (system library path)"
        // A class loader without resources: the system lookup must not find the bundled copy.
        val noResources = object : ClassLoader(null) {}
        val lib = try {
            NativeLibrary.getInstance(
                "chinwag",
                mapOf(com.sun.jna.Library.OPTION_CLASSLOADER to noResources),
            )
        } catch (e: UnsatisfiedLinkError) {
            attempts += what to "not found"
            return null
        }
        return accept(lib, what, "system", attempts)
    }

    private fun accept(
        lib: NativeLibrary,
        what: String,
        how: String,
        attempts: MutableList<Pair<String, String>>,
    ): Loaded? {
        val abi = try {
            lib.getFunction("chinwag_abi_version").invokeInt(emptyArray())
        } catch (e: UnsatisfiedLinkError) {
            attempts += what to "not a Chinwag library (no chinwag_abi_version)"
            return null
        }
        if (abi != C.CHINWAG_ABI_VERSION) {
            attempts += what to "ABI version $abi, this binding needs ${C.CHINWAG_ABI_VERSION}"
            return null
        }
        Lib.bind(lib)
        return Loaded(lib.file?.path ?: lib.name, how)
    }
}
