import Foundation

extension Process {
    /// Sets the program to run: `executable` with `arguments`, started under `wrapper` when
    /// one is given (`ip netns exec NAME`, found through `env`), as the NAT lab's clients are.
    public func setCommand(_ executable: URL, arguments: [String], under wrapper: [String] = []) {
        if wrapper.isEmpty {
            executableURL = executable
            self.arguments = arguments
        } else {
            executableURL = URL(fileURLWithPath: "/usr/bin/env")
            self.arguments = wrapper + [executable.path] + arguments
        }
    }
}
