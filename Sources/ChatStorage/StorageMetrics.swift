import CoreMetrics

/// A storage worker's figures, made once per process and shared by its partitions' queues.
/// Texts are counted per group commit, not per text: a commit adds its group's size at once.
struct StorageMetrics: Sendable {
    /// Texts made durable (their group committed).
    let textsStored = Counter(label: "chat_texts_stored_total")
    /// Voice and file messages stored: the file durable and its record committed.
    let filesStored = Counter(label: "chat_files_stored_total")
    /// One group commit: SQLite's COMMIT, whose fsync of the log (synchronous=FULL) is inside
    /// it and cannot be timed apart, so this is mostly that fsync.
    let commitSeconds = Timer(label: "chat_commit_seconds")
    /// Making one uploaded file durable: fsync of the file, its rename, fsync of the folder.
    /// The only fsyncs storage makes itself; a text's is SQLite's, in `commitSeconds`.
    let fsyncSeconds = Timer(label: "chat_fsync_seconds")
    /// Texts per group commit: how much load the commits are absorbing.
    let groupCommitRecords = Recorder(label: "chat_group_commit_records")

    /// 1 for a partition this worker holds the lock of and serves, 0 for one assigned to it
    /// whose lock another worker holds (status counts only the 1s).
    func owns(_ partition: Int, _ held: Bool) {
        Gauge(label: "chat_storage_partition_owned", dimensions: [("partition", String(partition))]).record(held ? 1 : 0)
    }

    /// Marks `partition` as assigned to this worker by its map but locked by another still (a
    /// move in progress, or a conflicting worker): 1 while it waits for the lock.
    func waits(for partition: Int, _ waiting: Bool) {
        Gauge(label: "chat_storage_partition_waiting", dimensions: [("partition", String(partition))]).record(waiting ? 1 : 0)
    }

    /// The epoch of the partition map the worker serves by.
    func servesMap(epoch: UInt64) {
        Gauge(label: "chat_storage_map_epoch").record(Int64(clamping: epoch))
    }
}
