package io.kanstream.jobs.online;

/**
 * One Kafka record as read, before anything is trusted about its value: the bytes and where they
 * came from, so a record that fails to parse can be dead-lettered with its coordinates.
 *
 * @param topic the topic it was read from
 * @param partition its partition
 * @param offset its offset in the partition
 * @param timestamp the Kafka record timestamp, epoch milliseconds; negative when it has none
 * @param value the record's value, {@code null} for a tombstone
 */
public record RawRecord(String topic, int partition, long offset, long timestamp, byte[] value) {}
