package io.chinwag.internal

import com.sun.jna.Pointer
import io.chinwag.Call
import io.chinwag.ChinwagException
import io.chinwag.ConnectionState
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
import io.chinwag.User
import io.chinwag.UserPage
import io.chinwag.UserStatus

// C payloads (borrowed for the callback) to immutable Kotlin values.

internal fun Pointer?.str(): String? = this?.getString(0, "UTF-8")

internal fun Pointer?.req(): String = this?.getString(0, "UTF-8") ?: ""

internal fun errorOf(p: Pointer): ChinwagException {
    val e = chinwag_error(p).loaded<chinwag_error>()
    return ChinwagException.of(e.code, e.name.str() ?: "UNKNOWN", e.message.req())
}

internal fun userOf(e: chinwag_user) = User(
    e.uid.req(), e.name.req(), e.avatar.str(), e.role.req(), UserStatus.of(e.status),
    e.last_active_at, e.deactivated.toInt() != 0, e.json.req(),
)

internal fun userOf(p: Pointer) = userOf(chinwag_user(p).loaded())

internal fun messageOf(e: chinwag_message) = Message(
    e.id, e.muid.req(), e.sender.req(), ReceiverType.of(e.receiver_type), e.receiver.req(),
    e.conversation_id.req(), e.category.req(), e.message_type.req(), e.text.str(), e.data_json.str(),
    e.parent_id, e.sent_at, e.edited_at, e.deleted_at, e.json.req(),
)

internal fun messageOf(p: Pointer) = messageOf(chinwag_message(p).loaded())

internal fun receiptOf(p: Pointer): Receipt {
    val e = chinwag_receipt(p).loaded<chinwag_receipt>()
    return Receipt(
        ReceiptKind.of(e.kind), e.by.req(), e.message_id, e.message_sender.req(), e.conversation_id.req(),
        ReceiverType.of(e.receiver_type), e.receiver.req(), e.at, e.json.req(),
    )
}

internal fun groupOf(e: chinwag_group) = Group(
    e.guid.req(), e.name.req(), GroupType.of(e.group_type), e.description.str(), e.owner.req(),
    e.members_count, e.created_at, e.scope.str(), e.metadata_json.str() ?: "{}", e.json.req(),
)

internal fun groupOf(p: Pointer) = groupOf(chinwag_group(p).loaded())

internal fun memberOf(e: chinwag_group_member) = GroupMember(userOf(e.user), e.scope.req(), e.joined_at, e.json.req())

internal fun memberOf(p: Pointer) = memberOf(chinwag_group_member(p).loaded())

internal fun memberEventOf(p: Pointer): GroupMemberEvent {
    val e = chinwag_group_member_event(p).loaded<chinwag_group_member_event>()
    return GroupMemberEvent(
        GroupAction.of(e.action), e.guid.req(), e.group_name.req(), e.member.req(), e.by.req(),
        e.scope.str(), e.old_scope.str(), e.at, e.json.req(),
    )
}

internal fun callOf(e: chinwag_call) = Call(
    e.session_id.req(), e.initiator.req(), ReceiverType.of(e.receiver_type), e.receiver.req(),
    e.call_type.req(), e.status.req(), e.by.req(), e.initiated_at, e.joined_at, e.ended_at, e.json.req(),
)

internal fun callOf(p: Pointer) = callOf(chinwag_call(p).loaded())

internal fun stateChangeOf(p: Pointer): StateChange {
    val e = chinwag_state_change(p).loaded<chinwag_state_change>()
    return StateChange(
        ConnectionState.of(e.previous), ConnectionState.of(e.current), StateReason.of(e.reason),
        Lib.chinwag_state_reason_name(e.reason).req(), e.message.req(), e.retry_in_ms, e.json.req(),
    )
}

internal fun featureOf(p: Pointer): FeatureChange {
    val e = chinwag_feature_change(p).loaded<chinwag_feature_change>()
    return FeatureChange(e.feature.req(), e.duration_ms, e.json.req())
}

internal fun typingOf(p: Pointer): Typing {
    val e = chinwag_typing(p).loaded<chinwag_typing>()
    return Typing(e.sender.req(), ReceiverType.of(e.receiver_type), e.receiver.req(), e.metadata_json.str(), e.json.req())
}

internal fun transientOf(p: Pointer): Transient {
    val e = chinwag_transient(p).loaded<chinwag_transient>()
    return Transient(e.sender.req(), ReceiverType.of(e.receiver_type), e.receiver.req(), e.data_json.req(), e.json.req())
}

internal fun gapOf(p: Pointer): Gap {
    val e = chinwag_gap(p).loaded<chinwag_gap>()
    return Gap(e.from_seq, e.to_seq, e.json.req())
}

internal fun presenceOf(p: Pointer): PresenceChange {
    val e = chinwag_presence(p).loaded<chinwag_presence>()
    return PresenceChange(e.uid.req(), UserStatus.of(e.status), e.last_active_at, e.json.req())
}

internal fun logRecordOf(p: Pointer): LogRecord {
    val e = chinwag_log_record(p).loaded<chinwag_log_record>()
    return LogRecord(LogLevel.of(e.level), e.target.req(), e.message.req())
}

/** `count` structs of `size` bytes from `items`. */
private inline fun <T> items(items: Pointer?, count: Long, size: Int, read: (Pointer) -> T): List<T> =
    if (items == null || count == 0L) emptyList() else List(count.toInt()) { read(items.share(it.toLong() * size)) }

private val MESSAGE_SIZE = chinwag_message().size()
private val USER_SIZE = chinwag_user().size()
private val GROUP_SIZE = chinwag_group().size()
private val MEMBER_SIZE = chinwag_group_member().size()

internal fun messagePageOf(p: Pointer): MessagePage {
    val e = chinwag_message_page(p).loaded<chinwag_message_page>()
    return MessagePage(items(e.items, e.len, MESSAGE_SIZE, ::messageOf), e.has_more.toInt() != 0, e.json.req())
}

internal fun userPageOf(p: Pointer): UserPage {
    val e = chinwag_user_page(p).loaded<chinwag_user_page>()
    return UserPage(items(e.items, e.len, USER_SIZE, ::userOf), e.has_more.toInt() != 0, e.json.req())
}

internal fun groupPageOf(p: Pointer): GroupPage {
    val e = chinwag_group_page(p).loaded<chinwag_group_page>()
    return GroupPage(items(e.items, e.len, GROUP_SIZE, ::groupOf), e.next_after.str(), e.json.req())
}

internal fun memberListOf(p: Pointer): List<GroupMember> {
    val e = chinwag_member_list(p).loaded<chinwag_member_list>()
    return items(e.items, e.len, MEMBER_SIZE, ::memberOf)
}
