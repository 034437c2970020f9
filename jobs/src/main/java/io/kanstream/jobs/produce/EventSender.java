package io.kanstream.jobs.produce;

import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.Label;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.SplittableRandom;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Sends events to the events topic at a steady rate, with their labels inline or, later, on the
 * labels topic. Record key = model key, so a key's events stay in order on one partition.
 *
 * <p>Which events keep their label is a pure function of the event id (and {@code labelFraction}),
 * so sending the same events twice withholds the same labels.
 */
public final class EventSender implements AutoCloseable {

    /**
     * @param eventsTopic where events go
     * @param labelsTopic where labels go {@code labelDelay} after their event; null to keep labels
     *     inline
     * @param labelDelay how long after its event a label is sent (labels topic only)
     * @param labelFraction the fraction of labeled events whose label is sent at all; the rest are
     *     sent unlabeled and their labels never come
     * @param rate events per second; 0 for as fast as the broker takes them
     */
    public record Settings(
            String eventsTopic,
            String labelsTopic,
            Duration labelDelay,
            double labelFraction,
            double rate) {
        public Settings {
            if (eventsTopic == null || eventsTopic.isBlank()) {
                throw new IllegalArgumentException("events topic must be set");
            }
            if (eventsTopic.equals(labelsTopic)) {
                throw new IllegalArgumentException(
                        "labels topic must differ from the events topic; leave it out for inline"
                                + " labels");
            }
            if (labelDelay == null || labelDelay.isNegative()) {
                throw new IllegalArgumentException("label delay must not be negative");
            }
            if (!(labelFraction >= 0 && labelFraction <= 1)) {
                throw new IllegalArgumentException(
                        "label fraction must be in [0, 1], got " + labelFraction);
            }
            if (!(rate >= 0) || Double.isInfinite(rate)) {
                throw new IllegalArgumentException(
                        "rate must be >= 0 events/s (0: unlimited), got " + rate);
            }
        }
    }

    /** What was sent. */
    public record Summary(
            long events, long labeledInline, long labelsSent, long labelsWithheld, Duration took) {}

    private final CheckedProducer producer;
    private final Settings settings;

    public EventSender(KafkaConnection kafka, Settings settings) {
        this.producer = new CheckedProducer(kafka);
        this.settings = settings;
    }

    /** Whether the label of event {@code id} is sent at all, for a given fraction. */
    public static boolean keepsLabel(String id, double fraction) {
        return fraction >= 1 || new SplittableRandom(id.hashCode()).nextDouble() < fraction;
    }

    /**
     * Sends up to {@code limit} events, then the labels still due, and waits until the broker has
     * them all.
     */
    public Summary send(Iterator<Event> events, long limit) {
        long started = System.nanoTime();
        double nanosPerEvent = settings.rate() > 0 ? 1e9 / settings.rate() : 0;
        ArrayDeque<Pending> pending = new ArrayDeque<>();
        long sent = 0;
        long inline = 0;
        long labels = 0;
        long withheld = 0;
        while (sent < limit && events.hasNext()) {
            if (nanosPerEvent > 0) {
                long due = started + (long) (sent * nanosPerEvent);
                sendDue(pending, due);
                CheckedProducer.waitUntil(due);
            }
            labels += sendDue(pending, System.nanoTime());
            Event event = events.next();
            Event out = event;
            if (event.isLabeled()) {
                boolean keep = keepsLabel(event.id(), settings.labelFraction());
                if (settings.labelsTopic() == null && keep) {
                    inline++;
                } else {
                    out = new Event(event.id(), event.key(), event.ts(), event.features());
                    if (keep) {
                        pending.add(
                                new Pending(
                                        System.nanoTime() + settings.labelDelay().toNanos(),
                                        new Label(
                                                event.id(),
                                                event.key(),
                                                event.label(),
                                                event.ts() + settings.labelDelay().toMillis())));
                    } else {
                        withheld++;
                    }
                }
            }
            producer.send(
                    new ProducerRecord<>(
                            settings.eventsTopic(),
                            null,
                            out.ts(),
                            bytes(out.key()),
                            EventCodec.writeEvent(out)));
            sent++;
        }
        while (!pending.isEmpty()) {
            CheckedProducer.waitUntil(pending.peek().dueNanos());
            labels += sendDue(pending, System.nanoTime());
        }
        producer.flush();
        return new Summary(
                sent, inline, labels, withheld, Duration.ofNanos(System.nanoTime() - started));
    }

    private record Pending(long dueNanos, Label label) {}

    private long sendDue(ArrayDeque<Pending> pending, long now) {
        long n = 0;
        while (!pending.isEmpty() && pending.peek().dueNanos() <= now) {
            Label label = pending.poll().label();
            producer.send(
                    new ProducerRecord<>(
                            settings.labelsTopic(),
                            null,
                            label.ts(),
                            bytes(label.key()),
                            EventCodec.writeLabel(label)));
            n++;
        }
        return n;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        producer.close();
    }
}
