package dev.cachepipe.app.testing;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberDescription;

/** Who holds which partitions in a test pipeline's Streams group and writer group, by member id. */
public record Groups(Admin admin, TestPipeline p) {
    /** The member ids in both groups now. */
    public Set<String> members() throws Exception {
        Set<String> ids = new HashSet<>();
        for (String group : List.of(p.id, p.writerGroup())) {
            for (MemberDescription m : members(group)) {
                ids.add(m.consumerId());
            }
        }
        return ids;
    }

    /** Whether members outside {@code others} hold at least one partition in both groups. */
    public boolean holdsSome(Set<String> others) throws Exception {
        return partitions(p.id, m -> !others.contains(m)) > 0
                && partitions(p.writerGroup(), m -> !others.contains(m)) > 0;
    }

    /** Whether the members {@code ids} hold every partition of both groups. */
    public boolean holdsAll(Set<String> ids) throws Exception {
        int sources = p.config.sourceTopics().size() * p.config.topics().partitions();
        return partitions(p.id, ids::contains) == sources
                && partitions(p.writerGroup(), ids::contains)
                        == p.config.topics().partitions();
    }

    private int partitions(String group, Predicate<String> member) throws Exception {
        int n = 0;
        for (MemberDescription m : members(group)) {
            if (member.test(m.consumerId())) {
                n += m.assignment().topicPartitions().size();
            }
        }
        return n;
    }

    private Collection<MemberDescription> members(String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group))
                .all()
                .get(10, TimeUnit.SECONDS)
                .get(group)
                .members();
    }
}
