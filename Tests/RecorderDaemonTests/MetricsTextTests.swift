import Foundation
import Hummingbird
import HummingbirdTesting
@testable import RecorderDaemon
import Testing

/// `/metrics` is rendered at most once per statistics tick (issue 21: a
/// render of 100 kept recordings' series on every scrape missed the 50 ms
/// p99 while clients polled the list).
@Suite struct MetricsTextTests {
    @Test func twoScrapesInATickAreTheSameBytesAndTheNextTickShowsAChange() async throws {
        // One tick at the start, the next an hour later unless the test makes one.
        let daemon = try await InProcessDaemon { configuration, _ in configuration.statisticsIntervalSeconds = 3600 }
        let marks = daemon.registry.makeCounter(name: "test_scrape_marks_total")
        try await daemon.test { client in
            let snapshots = daemon.application.snapshots
            let deadline = ContinuousClock.now + .seconds(10)
            while snapshots.ticks == 0, .now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            try #require(snapshots.ticks == 1)

            let first = try await client.call(.get, "/metrics")
            #expect(first.status == 200 && first.body.contains("\ntest_scrape_marks_total 0\n"), "\(first.body)")
            marks.increment()
            let second = try await client.call(.get, "/metrics")
            #expect(second.body == first.body, "a second scrape in the same tick is rendered again")

            snapshots.refresh()
            let third = try await client.call(.get, "/metrics")
            #expect(third.body.contains("\ntest_scrape_marks_total 1\n"), "the next tick does not show the change: \(third.body)")
            #expect(try await client.call(.get, "/metrics").body == third.body)
        }
    }
}
