package io.chinwag.internal

import com.sun.jna.Pointer
import io.chinwag.Call
import io.chinwag.ChinwagException
import io.chinwag.ConnectionState
import io.chinwag.Conversation
import io.chinwag.ConversationPage
import io.chinwag.FeatureChange
import io.chinwag.Gap
import io.chinwag.Group
import io.chinwag.GroupAction
import io.chinwag.GroupMember
import io.chinwag.GroupMemberEvent
import io.chinwag.GroupPage
import io.chinwag.GroupType
import io.chinwag.LogLevel
import io.chinwag.LogRecord
import io.chinwag.Message
import io.chinwag.MessagePage
import io.chinwag.PresenceChange
import io.chinwag.Receipt
import io.chinwag.ReceiptKind
import io.chinwag.ReceiverType
import io.chinwag.StateChange
import io.chinwag.StateReason
import io.chinwag.Transient
import io.chinwag.Typing
import io.chinwag.UnreadCounts
import io.chinwag.User
import io.chinwag.UserPage
import io.chinwag.UserStatus

// C payloads (borrowed for the callback) to immutable Kotlin values.
//
// Read field by field at fixed offsets (Mem): a JNA `Structure` per payload (reflection over its
// fields, a JNI call per field, a Pointer object per string) cost more than everything else
// the binding does per event. The offsets come once from the `Structure` mirrors in Native.kt,
// whose layout HeaderTest checks against the C compiler, so they cannot drift.

private const val UTF8 = "UTF-8"

internal fun Pointer?.str(): String? = this?.getString(0, UTF8)

internal fun Pointer?.req(): String = this?.getString(0, UTF8) ?: ""

// Each reader takes the struct's address (`p`, never 0) and a field's offset.

/** The `const char *` at [off] of the struct at [this] address; null for NULL. */
private fun Long.strAt(off: Long): String? = Mem.string(Mem.long(this + off))

/** As [strAt], "" for NULL (fields the header says are never NULL). */
private fun Long.reqAt(off: Long): String = strAt(off) ?: ""

private fun Long.i64(off: Long): Long = Mem.long(this + off)

private fun Long.i32(off: Long): Int = Mem.int(this + off)

private fun Long.boolAt(off: Long): Boolean = Mem.byte(this + off).toInt() != 0

/** The offsets of [s]'s fields, by name. */
private class Layout(s: CStruct) {
    private val offsets = s.fieldNames().associateWith { s.offsetOf(it).toLong() }
    val size = s.size().toLong()
    operator fun get(field: String): Long = offsets[field] ?: error("no field $field")
}

private object ErrorL {
    private val l = Layout(chinwag_error())
    val code = l["code"]; val name = l["name"]; val message = l["message"]
}

internal fun errorOf(p: Long): ChinwagException =
    ChinwagException.of(p.i32(ErrorL.code), p.strAt(ErrorL.name) ?: "UNKNOWN", p.reqAt(ErrorL.message))

private object UserL {
    private val l = Layout(chinwag_user())
    val size = l.size
    val uid = l["uid"]; val name = l["name"]; val avatar = l["avatar"]; val role = l["role"]; val status = l["status"]
    val lastActiveAt = l["last_active_at"]; val deactivated = l["deactivated"]; val json = l["json"]
}

internal fun userOf(p: Long) = User(
    p.reqAt(UserL.uid), p.reqAt(UserL.name), p.strAt(UserL.avatar), p.reqAt(UserL.role), UserStatus.of(p.i32(UserL.status)),
    p.i64(UserL.lastActiveAt), p.boolAt(UserL.deactivated), p.reqAt(UserL.json),
)

private object MessageL {
    private val l = Layout(chinwag_message())
    val size = l.size
    val id = l["id"]; val muid = l["muid"]; val sender = l["sender"]; val receiverType = l["receiver_type"]
    val receiver = l["receiver"]; val conversationId = l["conversation_id"]; val category = l["category"]
    val messageType = l["message_type"]; val text = l["text"]; val dataJson = l["data_json"]; val parentId = l["parent_id"]
    val sentAt = l["sent_at"]; val editedAt = l["edited_at"]; val deletedAt = l["deleted_at"]; val json = l["json"]
    val mentionedUsers = l["mentioned_users"]; val mentionedUsersLen = l["mentioned_users_len"]; val mentionsMe = l["mentions_me"]
    val replyCount = l["reply_count"]; val lastReplyAt = l["last_reply_at"]
}

/** The [count] strings of the `const char *const *` at address [array]. */
private fun strings(array: Long, count: Long): List<String> =
    if (array == 0L || count == 0L) emptyList()
    else List(count.toInt()) { Mem.string(Mem.long(array + it * com.sun.jna.Native.POINTER_SIZE)) ?: "" }

internal fun messageOf(p: Long) = Message(
    p.i64(MessageL.id), p.reqAt(MessageL.muid), p.reqAt(MessageL.sender), ReceiverType.of(p.i32(MessageL.receiverType)),
    p.reqAt(MessageL.receiver), p.reqAt(MessageL.conversationId), p.reqAt(MessageL.category), p.reqAt(MessageL.messageType),
    p.strAt(MessageL.text), p.strAt(MessageL.dataJson), p.i64(MessageL.parentId), p.i64(MessageL.sentAt),
    p.i64(MessageL.editedAt), p.i64(MessageL.deletedAt), p.reqAt(MessageL.json),
    strings(p.i64(MessageL.mentionedUsers), p.i64(MessageL.mentionedUsersLen)), p.boolAt(MessageL.mentionsMe),
    p.i64(MessageL.replyCount), p.i64(MessageL.lastReplyAt),
)

private object ReceiptL {
    private val l = Layout(chinwag_receipt())
    val kind = l["kind"]; val by = l["by"]; val messageId = l["message_id"]; val messageSender = l["message_sender"]
    val conversationId = l["conversation_id"]; val receiverType = l["receiver_type"]; val receiver = l["receiver"]
    val at = l["at"]; val json = l["json"]
}

internal fun receiptOf(p: Long) = Receipt(
    ReceiptKind.of(p.i32(ReceiptL.kind)), p.reqAt(ReceiptL.by), p.i64(ReceiptL.messageId), p.reqAt(ReceiptL.messageSender),
    p.reqAt(ReceiptL.conversationId), ReceiverType.of(p.i32(ReceiptL.receiverType)), p.reqAt(ReceiptL.receiver),
    p.i64(ReceiptL.at), p.reqAt(ReceiptL.json),
)

private object GroupL {
    private val l = Layout(chinwag_group())
    val size = l.size
    val guid = l["guid"]; val name = l["name"]; val groupType = l["group_type"]; val description = l["description"]
    val owner = l["owner"]; val membersCount = l["members_count"]; val createdAt = l["created_at"]; val scope = l["scope"]
    val metadataJson = l["metadata_json"]; val json = l["json"]
}

internal fun groupOf(p: Long) = Group(
    p.reqAt(GroupL.guid), p.reqAt(GroupL.name), GroupType.of(p.i32(GroupL.groupType)), p.strAt(GroupL.description),
    p.reqAt(GroupL.owner), p.i64(GroupL.membersCount), p.i64(GroupL.createdAt), p.strAt(GroupL.scope),
    p.strAt(GroupL.metadataJson) ?: "{}", p.reqAt(GroupL.json),
)

private object MemberL {
    private val l = Layout(chinwag_group_member())
    val size = l.size
    val user = l["user"]; val scope = l["scope"]; val joinedAt = l["joined_at"]; val json = l["json"]
}

internal fun memberOf(p: Long) =
    GroupMember(userOf(p + MemberL.user), p.reqAt(MemberL.scope), p.i64(MemberL.joinedAt), p.reqAt(MemberL.json))

private object MemberEventL {
    private val l = Layout(chinwag_group_member_event())
    val action = l["action"]; val guid = l["guid"]; val groupName = l["group_name"]; val member = l["member"]; val by = l["by"]
    val scope = l["scope"]; val oldScope = l["old_scope"]; val at = l["at"]; val json = l["json"]
}

internal fun memberEventOf(p: Long) = GroupMemberEvent(
    GroupAction.of(p.i32(MemberEventL.action)), p.reqAt(MemberEventL.guid), p.reqAt(MemberEventL.groupName),
    p.reqAt(MemberEventL.member), p.reqAt(MemberEventL.by), p.strAt(MemberEventL.scope), p.strAt(MemberEventL.oldScope),
    p.i64(MemberEventL.at), p.reqAt(MemberEventL.json),
)

private object CallL {
    private val l = Layout(chinwag_call())
    val sessionId = l["session_id"]; val initiator = l["initiator"]; val receiverType = l["receiver_type"]; val receiver = l["receiver"]
    val callType = l["call_type"]; val status = l["status"]; val by = l["by"]; val initiatedAt = l["initiated_at"]
    val joinedAt = l["joined_at"]; val endedAt = l["ended_at"]; val json = l["json"]
}

internal fun callOf(p: Long) = Call(
    p.reqAt(CallL.sessionId), p.reqAt(CallL.initiator), ReceiverType.of(p.i32(CallL.receiverType)), p.reqAt(CallL.receiver),
    p.reqAt(CallL.callType), p.reqAt(CallL.status), p.reqAt(CallL.by), p.i64(CallL.initiatedAt), p.i64(CallL.joinedAt),
    p.i64(CallL.endedAt), p.reqAt(CallL.json),
)

private object StateChangeL {
    private val l = Layout(chinwag_state_change())
    val previous = l["previous"]; val current = l["current"]; val reason = l["reason"]; val message = l["message"]
    val retryInMs = l["retry_in_ms"]; val json = l["json"]
}

internal fun stateChangeOf(p: Long): StateChange {
    val reason = p.i32(StateChangeL.reason)
    return StateChange(
        ConnectionState.of(p.i32(StateChangeL.previous)), ConnectionState.of(p.i32(StateChangeL.current)), StateReason.of(reason),
        Lib.chinwag_state_reason_name(reason).req(), p.reqAt(StateChangeL.message), p.i64(StateChangeL.retryInMs),
        p.reqAt(StateChangeL.json),
    )
}

private object FeatureL {
    private val l = Layout(chinwag_feature_change())
    val feature = l["feature"]; val durationMs = l["duration_ms"]; val json = l["json"]
}

internal fun featureOf(p: Long) = FeatureChange(p.reqAt(FeatureL.feature), p.i64(FeatureL.durationMs), p.reqAt(FeatureL.json))

private object TypingL {
    private val l = Layout(chinwag_typing())
    val sender = l["sender"]; val receiverType = l["receiver_type"]; val receiver = l["receiver"]
    val metadataJson = l["metadata_json"]; val json = l["json"]
}

internal fun typingOf(p: Long) = Typing(
    p.reqAt(TypingL.sender), ReceiverType.of(p.i32(TypingL.receiverType)), p.reqAt(TypingL.receiver),
    p.strAt(TypingL.metadataJson), p.reqAt(TypingL.json),
)

private object TransientL {
    private val l = Layout(chinwag_transient())
    val sender = l["sender"]; val receiverType = l["receiver_type"]; val receiver = l["receiver"]
    val dataJson = l["data_json"]; val json = l["json"]
}

internal fun transientOf(p: Long) = Transient(
    p.reqAt(TransientL.sender), ReceiverType.of(p.i32(TransientL.receiverType)), p.reqAt(TransientL.receiver),
    p.reqAt(TransientL.dataJson), p.reqAt(TransientL.json),
)

private object GapL {
    private val l = Layout(chinwag_gap())
    val fromSeq = l["from_seq"]; val toSeq = l["to_seq"]; val json = l["json"]
}

internal fun gapOf(p: Long) = Gap(p.i64(GapL.fromSeq), p.i64(GapL.toSeq), p.reqAt(GapL.json))

private object PresenceL {
    private val l = Layout(chinwag_presence())
    val uid = l["uid"]; val status = l["status"]; val lastActiveAt = l["last_active_at"]; val json = l["json"]
}

internal fun presenceOf(p: Long) = PresenceChange(
    p.reqAt(PresenceL.uid), UserStatus.of(p.i32(PresenceL.status)), p.i64(PresenceL.lastActiveAt), p.reqAt(PresenceL.json),
)

private object LogRecordL {
    private val l = Layout(chinwag_log_record())
    val level = l["level"]; val target = l["target"]; val message = l["message"]
}

internal fun logRecordOf(p: Long) =
    LogRecord(LogLevel.of(p.i32(LogRecordL.level)), p.reqAt(LogRecordL.target), p.reqAt(LogRecordL.message))

/** The [count] structs of [size] bytes at address [items]. */
private inline fun <T> items(items: Long, count: Long, size: Long, read: (Long) -> T): List<T> =
    if (items == 0L || count == 0L) emptyList() else List(count.toInt()) { read(items + it * size) }

private object PageL {
    private val messages = Layout(chinwag_message_page())
    private val users = Layout(chinwag_user_page())
    private val groups = Layout(chinwag_group_page())
    private val members = Layout(chinwag_member_list())
    val mItems = messages["items"]; val mLen = messages["len"]; val mHasMore = messages["has_more"]; val mJson = messages["json"]
    val uItems = users["items"]; val uLen = users["len"]; val uHasMore = users["has_more"]; val uJson = users["json"]
    val gItems = groups["items"]; val gLen = groups["len"]; val gNextAfter = groups["next_after"]; val gJson = groups["json"]
    val lItems = members["items"]; val lLen = members["len"]
}

internal fun messagePageOf(p: Long) = MessagePage(
    items(p.i64(PageL.mItems), p.i64(PageL.mLen), MessageL.size, ::messageOf), p.boolAt(PageL.mHasMore), p.reqAt(PageL.mJson),
)

internal fun userPageOf(p: Long) = UserPage(
    items(p.i64(PageL.uItems), p.i64(PageL.uLen), UserL.size, ::userOf), p.boolAt(PageL.uHasMore), p.reqAt(PageL.uJson),
)

internal fun groupPageOf(p: Long) = GroupPage(
    items(p.i64(PageL.gItems), p.i64(PageL.gLen), GroupL.size, ::groupOf), p.strAt(PageL.gNextAfter), p.reqAt(PageL.gJson),
)

internal fun memberListOf(p: Long): List<GroupMember> =
    items(p.i64(PageL.lItems), p.i64(PageL.lLen), MemberL.size, ::memberOf)

private object ConversationL {
    private val l = Layout(chinwag_conversation())
    val size = l.size
    val conversationId = l["conversation_id"]; val conversationType = l["conversation_type"]; val withId = l["with_id"]
    val user = l["user"]; val group = l["group"]; val lastMessage = l["last_message"]; val unreadCount = l["unread_count"]
    val unreadMentionsCount = l["unread_mentions_count"]; val lastRead = l["last_read_message_id"]
    val lastDelivered = l["last_delivered_message_id"]; val updatedAt = l["updated_at"]; val deleted = l["deleted"]
    val json = l["json"]
}

/** The struct behind the pointer at [off], read with [read]; null for NULL. */
private inline fun <T> Long.nested(off: Long, read: (Long) -> T): T? = p(off).takeIf { it != 0L }?.let(read)

private fun Long.p(off: Long): Long = Mem.long(this + off)

internal fun conversationOf(p: Long) = Conversation(
    p.reqAt(ConversationL.conversationId), ReceiverType.of(p.i32(ConversationL.conversationType)), p.reqAt(ConversationL.withId),
    p.nested(ConversationL.user, ::userOf), p.nested(ConversationL.group, ::groupOf), p.nested(ConversationL.lastMessage, ::messageOf),
    p.i64(ConversationL.unreadCount), p.i64(ConversationL.unreadMentionsCount), p.i64(ConversationL.lastRead),
    p.i64(ConversationL.lastDelivered), p.i64(ConversationL.updatedAt), p.boolAt(ConversationL.deleted), p.reqAt(ConversationL.json),
)

private object ConversationPageL {
    private val l = Layout(chinwag_conversation_page())
    val items = l["items"]; val len = l["len"]; val hasMore = l["has_more"]; val json = l["json"]
}

internal fun conversationPageOf(p: Long) = ConversationPage(
    items(p.i64(ConversationPageL.items), p.i64(ConversationPageL.len), ConversationL.size, ::conversationOf),
    p.boolAt(ConversationPageL.hasMore), p.reqAt(ConversationPageL.json),
)

private object UnreadL {
    private val counts = Layout(chinwag_unread_counts())
    private val one = Layout(chinwag_unread_count())
    val size = one.size
    val total = counts["total"]; val items = counts["items"]; val len = counts["len"]; val json = counts["json"]
    val type = one["conversation_type"]; val withId = one["with_id"]; val unread = one["unread_count"]
}

internal fun unreadCountsOf(p: Long): UnreadCounts {
    val entries = items(p.i64(UnreadL.items), p.i64(UnreadL.len), UnreadL.size) {
        Triple(ReceiverType.of(it.i32(UnreadL.type)), it.reqAt(UnreadL.withId), it.i64(UnreadL.unread))
    }
    val users = entries.filter { it.first == ReceiverType.USER }.associate { it.second to it.third }
    val groups = entries.filter { it.first == ReceiverType.GROUP }.associate { it.second to it.third }
    return UnreadCounts(p.i64(UnreadL.total), users, groups, p.reqAt(UnreadL.json))
}
