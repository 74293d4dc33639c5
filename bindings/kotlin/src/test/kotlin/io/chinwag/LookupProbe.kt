package io.chinwag

/** Run in a child JVM by LibraryLookupTest: prints how the library was found, or why not. */
object LookupProbe {
    @JvmStatic
    fun main(args: Array<String>) {
        try {
            val path = ChinwagClient.libraryPath()
            println("FOUND ${ChinwagClient.librarySource()}")
            println(path)
            println(ChinwagClient.version())
        } catch (e: LibraryLoadException) {
            println("NOTFOUND ${e.javaClass.simpleName}")
            println(e.message)
        }
    }
}
