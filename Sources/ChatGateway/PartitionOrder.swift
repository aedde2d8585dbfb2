/// Keeps the texts of each partition in the order they were sent while the partition moves
/// between storage workers. A text is sent at once unless texts of its partition are on their
/// way to another worker (the gateway adopted a newer map meanwhile) or wait already: then it
/// waits until none is in flight, so a later text never overtakes an earlier one that is being
/// sent on after `partitionMoved`. In steady state a text costs two array updates.
///
/// Generic over what is held, so the rule is tested without sockets. Bus thread only.
struct PartitionOrder<Item> {
    /// Per partition: texts sent and not yet answered, and the slot they all went to.
    private var inFlight: [Int]
    private var slotInFlight: [Int]
    /// Per partition: texts answered `partitionMoved` and to be sent again (first), then texts
    /// that came while others were in flight elsewhere, each in order.
    private var resends: [[Item]]
    private var held: [[Item]]

    init(partitions: Int) {
        inFlight = Array(repeating: 0, count: partitions)
        slotInFlight = Array(repeating: 0, count: partitions)
        resends = Array(repeating: [], count: partitions)
        held = Array(repeating: [], count: partitions)
    }

    /// Whether `item` may go to `slot` now; if so it counts as in flight, else it waits.
    mutating func admit(_ item: Item, partition: Int, slot: Int) -> Bool {
        if held[partition].isEmpty, resends[partition].isEmpty, inFlight[partition] == 0 || slotInFlight[partition] == slot {
            inFlight[partition] += 1
            slotInFlight[partition] = slot
            return true
        }
        held[partition].append(item)
        return false
    }

    /// A text of `partition` was answered; `resend` is that text again when the answer was
    /// `partitionMoved` and it is to be sent on. Returns the texts to send now, in order, to
    /// `slot` (the partition's slot now), each counted as in flight there: none while texts
    /// of the partition are still in flight.
    mutating func answered(partition: Int, resend: Item?, slot: Int) -> [Item] {
        inFlight[partition] -= 1
        if let resend { resends[partition].append(resend) }
        guard inFlight[partition] == 0, !(resends[partition].isEmpty && held[partition].isEmpty) else { return [] }
        let ready = resends[partition] + held[partition]
        resends[partition].removeAll()
        held[partition].removeAll()
        inFlight[partition] = ready.count
        slotInFlight[partition] = slot
        return ready
    }
}
