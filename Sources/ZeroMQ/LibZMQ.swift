import CZeroMQ

/// Every zmq_* call goes through here, so `-1`/errno becomes a typed error in one place.
enum LibZMQ {
    @discardableResult
    static func check(_ result: Int32, _ call: @autoclosure () -> String) throws -> Int32 {
        if result == -1 { throw ZeroMQError(errno: zmq_errno(), call: call()) }
        return result
    }

    static func newContext() -> UnsafeMutableRawPointer {
        guard let context = zmq_ctx_new() else { fatalError("zmq_ctx_new failed: out of memory") }
        return context
    }

    static func terminate(_ context: UnsafeMutableRawPointer) {
        while zmq_ctx_term(context) == -1 && zmq_errno() == EINTR {}
    }

    static func newSocket(_ context: UnsafeMutableRawPointer, type: Int32) throws -> UnsafeMutableRawPointer {
        guard let handle = zmq_socket(context, type) else {
            throw ZeroMQError(errno: zmq_errno(), call: "zmq_socket")
        }
        return handle
    }

    static func close(_ handle: UnsafeMutableRawPointer) {
        zmq_close(handle)
    }

    static func setOption(_ handle: UnsafeMutableRawPointer, _ option: Int32, int value: Int32) throws {
        var value = value
        try check(zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size), "zmq_setsockopt(\(option))")
    }

    static func setOption(_ handle: UnsafeMutableRawPointer, _ option: Int32, int64 value: Int64) throws {
        var value = value
        try check(zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size), "zmq_setsockopt(\(option))")
    }

    static func setOption(_ handle: UnsafeMutableRawPointer, _ option: Int32, bytes: [UInt8]) throws {
        _ = try bytes.withUnsafeBytes { raw in
            try check(zmq_setsockopt(handle, option, raw.baseAddress, raw.count), "zmq_setsockopt(\(option))")
        }
    }

    static func getIntOption(_ handle: UnsafeMutableRawPointer, _ option: Int32) throws -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        try check(zmq_getsockopt(handle, option, &value, &size), "zmq_getsockopt(\(option))")
        return value
    }

    static func getStringOption(_ handle: UnsafeMutableRawPointer, _ option: Int32) throws -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        try check(zmq_getsockopt(handle, option, &buffer, &size), "zmq_getsockopt(\(option))")
        return String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
    }

    static func bind(_ handle: UnsafeMutableRawPointer, _ endpoint: String) throws {
        try check(zmq_bind(handle, endpoint), "zmq_bind(\(endpoint))")
    }

    static func monitor(_ handle: UnsafeMutableRawPointer, _ endpoint: String, events: Int32) throws {
        _ = try check(zmq_socket_monitor(handle, endpoint, events), "zmq_socket_monitor(\(endpoint))")
    }

    static func connect(_ handle: UnsafeMutableRawPointer, _ endpoint: String) throws {
        try check(zmq_connect(handle, endpoint), "zmq_connect(\(endpoint))")
    }

    /// Returns false when a non-blocking send would block.
    static func send(_ handle: UnsafeMutableRawPointer, _ bytes: UnsafeRawBufferPointer, flags: Int32) throws -> Bool {
        while true {
            let result = zmq_send(handle, bytes.baseAddress, bytes.count, flags)
            if result >= 0 { return true }
            let error = zmq_errno()
            if error == EINTR { continue }
            if error == EAGAIN { return false }
            throw ZeroMQError(errno: error, call: "zmq_send")
        }
    }

    /// Receives one frame; nil when a non-blocking receive found nothing.
    static func receive(_ handle: UnsafeMutableRawPointer, flags: Int32) throws -> (bytes: [UInt8], more: Bool)? {
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        while true {
            if zmq_msg_recv(&message, handle, flags) >= 0 { break }
            let error = zmq_errno()
            if error == EINTR { continue }
            if error == EAGAIN { return nil }
            throw ZeroMQError(errno: error, call: "zmq_msg_recv")
        }
        let size = zmq_msg_size(&message)
        let bytes: [UInt8]
        if size == 0 {
            bytes = []
        } else {
            let data = zmq_msg_data(&message)!.assumingMemoryBound(to: UInt8.self)
            bytes = Array(UnsafeBufferPointer(start: data, count: size))
        }
        return (bytes, zmq_msg_more(&message) == 1)
    }

    /// Polls the items; returns how many are ready.
    static func poll(_ items: inout [zmq_pollitem_t], timeoutMilliseconds: Int) throws -> Int {
        while true {
            let count = items.count
            let result = items.withUnsafeMutableBufferPointer { buffer in
                zmq_poll(buffer.baseAddress, Int32(count), timeoutMilliseconds)
            }
            if result >= 0 { return Int(result) }
            let error = zmq_errno()
            if error == EINTR { continue }
            throw ZeroMQError(errno: error, call: "zmq_poll")
        }
    }
}
