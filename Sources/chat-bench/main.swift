import ChatBenchmark
import Foundation

// Figures appear as they are measured, even when the output goes to a file.
setvbuf(stdout, nil, _IOLBF, 0)
ChatBenchCommand.main()
