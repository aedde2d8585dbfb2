import ChatBenchmark

ChatBenchCommand.main()
