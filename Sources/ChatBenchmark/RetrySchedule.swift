/// Clients waiting for their next try, soonest first: a binary min-heap of (time, client), so
/// that ten thousand clients backing off cost the load generator a logarithm each, not a scan.
struct RetrySchedule {
    private var heap: [(due: UInt64, client: Int)] = []

    var isEmpty: Bool { heap.isEmpty }

    /// When the soonest waiting client is due (uptime nanoseconds).
    var soonest: UInt64? { heap.first?.due }

    mutating func add(_ client: Int, due: UInt64) {
        heap.append((due, client))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].due < heap[parent].due else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// The soonest client whose time has come by `now`, taken off the schedule.
    mutating func takeDue(by now: UInt64) -> Int? {
        guard let first = heap.first, first.due <= now else { return nil }
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].due < heap[smallest].due { smallest = left }
            if right < heap.count && heap[right].due < heap[smallest].due { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return first.client
    }
}
