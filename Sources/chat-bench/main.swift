import CLinux
import ChatBenchmark

// Figures appear as they are measured, even when the output goes to a file.
line_buffer_standard_output()
ChatBenchCommand.main()
