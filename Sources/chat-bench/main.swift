import CLinux
import ChatBenchmark
import Glibc

// Figures appear as they are measured, even when the output goes to a file.
line_buffer_standard_output()
// A server gone must be an error to report, not the end: OpenSSL writes without MSG_NOSIGNAL.
signal(SIGPIPE, SIG_IGN)
ChatBenchCommand.main()
