@file:Suppress("ClassName", "FunctionName", "PropertyName", "unused")

package io.chinwag.internal

import com.sun.jna.Callback
import com.sun.jna.Native
import com.sun.jna.NativeLibrary
import com.sun.jna.Pointer
import com.sun.jna.Structure

// The C ABI of libchinwag (`include/chinwag.h`) mirrored one to one for JNA's direct mapping:
// every struct field by field (same names), every callback typedef, every function. Nothing
// here converts or checks; the public API (io.chinwag) does. HeaderTest compares all of it
// with the header and the C compiler, so the two cannot drift.
//
// Type mapping: `const char *` arguments are NUL-terminated UTF-8 `ByteArray`s (see `cstr`),
// strings read from C are `Pointer`s (read as UTF-8), `uint32_t` and the enum typedefs `Int`,
// `int64_t`/`uint64_t`/`size_t` `Long` (64-bit platforms only: checked at load), `bool` in a
// struct or a callback `Byte`, as a function argument `Boolean`. Out-parameters are one-element
// primitive arrays (`char **`/`T **` and `size_t *`: `LongArray`, an address or a count;
// `int *`/enum `*`: `IntArray`): direct mapping passes them without the Memory allocation, the
// cleaner registration and the Java upcall a `ByReference` costs on every call.

/** A `Structure` whose layout tests can inspect; `p` non-null maps existing memory. */
internal abstract class CStruct(p: Pointer?) : Structure(p) {
    fun offsetOf(field: String): Int = fieldOffset(field)

    /** The fields in C order. */
    fun fieldNames(): List<String> = fieldOrder

    /** Reads the memory into the fields and returns this. */
    fun <T : CStruct> loaded(): T {
        read()
        @Suppress("UNCHECKED_CAST")
        return this as T
    }
}

// Callback parameters that are C pointers arrive as `Long` addresses (64-bit only): JNA's direct
// trampoline passes primitives as they are, where each `Pointer` parameter would be a Java
// object constructed from native code (a JNI call) on every callback.

/** `chinwag_call_done_cb` */
internal fun interface CallDoneCb : Callback {
    fun invoke(userData: Long, error: Long, call: Long)
}

/** `chinwag_log_cb` */
internal fun interface LogCb : Callback {
    fun invoke(userData: Long, record: Long)
}

/** `chinwag_user_data_free_cb` */
internal fun interface UserDataFreeCb : Callback {
    fun invoke(userData: Long)
}

/** `chinwag_store_load_cb` */
internal fun interface StoreLoadCb : Callback {
    fun invoke(userData: Long, reply: Long): Int
}

/** `chinwag_store_save_cb` */
internal fun interface StoreSaveCb : Callback {
    fun invoke(userData: Long, sessionJson: Long, durable: Byte): Int
}

/** `chinwag_store_clear_cb` */
internal fun interface StoreClearCb : Callback {
    fun invoke(userData: Long): Int
}

/** `chinwag_user_done_cb` */
internal fun interface UserDoneCb : Callback {
    fun invoke(userData: Long, error: Long, user: Long)
}

/** `chinwag_done_cb` */
internal fun interface DoneCb : Callback {
    fun invoke(userData: Long, error: Long)
}

/** `chinwag_send_cb` */
internal fun interface SendCb : Callback {
    fun invoke(userData: Long, error: Long, message: Long)
}

/** `chinwag_group_done_cb` */
internal fun interface GroupDoneCb : Callback {
    fun invoke(userData: Long, error: Long, group: Long)
}

/** `chinwag_group_page_done_cb` */
internal fun interface GroupPageDoneCb : Callback {
    fun invoke(userData: Long, error: Long, page: Long)
}

/** `chinwag_member_list_done_cb` */
internal fun interface MemberListDoneCb : Callback {
    fun invoke(userData: Long, error: Long, list: Long)
}

/** `chinwag_member_done_cb` */
internal fun interface MemberDoneCb : Callback {
    fun invoke(userData: Long, error: Long, member: Long)
}

/** `chinwag_state_change_cb` */
internal fun interface StateChangeCb : Callback {
    fun invoke(userData: Long, change: Long)
}

/** `chinwag_error_cb` */
internal fun interface ErrorCb : Callback {
    fun invoke(userData: Long, error: Long)
}

/** `chinwag_feature_cb` */
internal fun interface FeatureCb : Callback {
    fun invoke(userData: Long, change: Long)
}

/** `chinwag_user_cb` */
internal fun interface UserCb : Callback {
    fun invoke(userData: Long, user: Long)
}

/** `chinwag_notice_cb` */
internal fun interface NoticeCb : Callback {
    fun invoke(userData: Long)
}

/** `chinwag_message_cb` */
internal fun interface MessageCb : Callback {
    fun invoke(userData: Long, message: Long)
}

/** `chinwag_typing_cb` */
internal fun interface TypingCb : Callback {
    fun invoke(userData: Long, typing: Long)
}

/** `chinwag_receipt_cb` */
internal fun interface ReceiptCb : Callback {
    fun invoke(userData: Long, receipt: Long)
}

/** `chinwag_transient_cb` */
internal fun interface TransientCb : Callback {
    fun invoke(userData: Long, transient: Long)
}

/** `chinwag_gap_cb` */
internal fun interface GapCb : Callback {
    fun invoke(userData: Long, gap: Long)
}

/** `chinwag_presence_cb` */
internal fun interface PresenceCb : Callback {
    fun invoke(userData: Long, presence: Long)
}

/** `chinwag_group_member_cb` */
internal fun interface GroupMemberCb : Callback {
    fun invoke(userData: Long, event: Long)
}

/** `chinwag_call_cb` */
internal fun interface CallCb : Callback {
    fun invoke(userData: Long, call: Long)
}

/** `chinwag_message_page_done_cb` */
internal fun interface MessagePageDoneCb : Callback {
    fun invoke(userData: Long, error: Long, page: Long)
}

/** `chinwag_user_page_done_cb` */
internal fun interface UserPageDoneCb : Callback {
    fun invoke(userData: Long, error: Long, page: Long)
}

/** `chinwag_conversation_cb` */
internal fun interface ConversationCb : Callback {
    fun invoke(userData: Long, conversation: Long)
}

/** `chinwag_conversation_done_cb` */
internal fun interface ConversationDoneCb : Callback {
    fun invoke(userData: Long, error: Long, conversation: Long)
}

/** `chinwag_conversation_page_done_cb` */
internal fun interface ConversationPageDoneCb : Callback {
    fun invoke(userData: Long, error: Long, page: Long)
}

/** `chinwag_unread_counts_done_cb` */
internal fun interface UnreadCountsDoneCb : Callback {
    fun invoke(userData: Long, error: Long, counts: Long)
}
@Structure.FieldOrder("code", "name", "message", "json")
internal class chinwag_error(p: Pointer? = null) : CStruct(p) {
    @JvmField var code: Int = 0
    @JvmField var name: Pointer? = null
    @JvmField var message: Pointer? = null
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("session_id", "initiator", "receiver_type", "receiver", "call_type", "status", "by", "initiated_at", "joined_at", "ended_at", "json")
internal class chinwag_call(p: Pointer? = null) : CStruct(p) {
    @JvmField var session_id: Pointer? = null
    @JvmField var initiator: Pointer? = null
    @JvmField var receiver_type: Int = 0
    @JvmField var receiver: Pointer? = null
    @JvmField var call_type: Pointer? = null
    @JvmField var status: Pointer? = null
    @JvmField var by: Pointer? = null
    @JvmField var initiated_at: Long = 0
    @JvmField var joined_at: Long = 0
    @JvmField var ended_at: Long = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("level", "target", "message")
internal class chinwag_log_record(p: Pointer? = null) : CStruct(p) {
    @JvmField var level: Int = 0
    @JvmField var target: Pointer? = null
    @JvmField var message: Pointer? = null
}

@Structure.FieldOrder("struct_size", "load", "save", "clear", "user_data", "user_data_free")
internal class chinwag_session_store(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var load: StoreLoadCb? = null
    @JvmField var save: StoreSaveCb? = null
    @JvmField var clear: StoreClearCb? = null
    @JvmField var user_data: Pointer? = null
    @JvmField var user_data_free: UserDataFreeCb? = null
}

@Structure.FieldOrder("struct_size", "kind", "id", "listener", "user_data", "user_data_free")
internal class chinwag_initial_listener(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var kind: Int = 0
    @JvmField var id: Pointer? = null
    @JvmField var listener: Pointer? = null
    @JvmField var user_data: Pointer? = null
    @JvmField var user_data_free: UserDataFreeCb? = null
}

@Structure.FieldOrder("struct_size", "server_url", "connect_mode", "presence", "presence_roles", "data_dir", "extra_ca_pem", "extra_ca_pem_len", "connect_timeout_ms", "first_retry_max_ms", "backoff_base_ms", "backoff_cap_ms", "stable_after_ms", "suspend_after_ms", "suspended_retry_min_ms", "suspended_retry_max_ms", "heartbeat_grace_ms", "typing_timeout_ms", "probe_timeout_ms", "background_grace_ms", "hint_coalesce_ms", "queue_capacity", "log", "log_user_data", "log_user_data_free", "session_store", "listeners", "listeners_len", "dispatch_mode", "listener_grace_ms")
internal class chinwag_settings(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var server_url: Pointer? = null
    @JvmField var connect_mode: Int = 0
    @JvmField var presence: Int = 0
    @JvmField var presence_roles: Pointer? = null
    @JvmField var data_dir: Pointer? = null
    @JvmField var extra_ca_pem: Pointer? = null
    @JvmField var extra_ca_pem_len: Long = 0
    @JvmField var connect_timeout_ms: Int = 0
    @JvmField var first_retry_max_ms: Int = 0
    @JvmField var backoff_base_ms: Int = 0
    @JvmField var backoff_cap_ms: Int = 0
    @JvmField var stable_after_ms: Int = 0
    @JvmField var suspend_after_ms: Int = 0
    @JvmField var suspended_retry_min_ms: Int = 0
    @JvmField var suspended_retry_max_ms: Int = 0
    @JvmField var heartbeat_grace_ms: Int = 0
    @JvmField var typing_timeout_ms: Int = 0
    @JvmField var probe_timeout_ms: Int = 0
    @JvmField var background_grace_ms: Int = 0
    @JvmField var hint_coalesce_ms: Int = 0
    @JvmField var queue_capacity: Int = 0
    @JvmField var log: LogCb? = null
    @JvmField var log_user_data: Pointer? = null
    @JvmField var log_user_data_free: UserDataFreeCb? = null
    @JvmField var session_store: Pointer? = null
    @JvmField var listeners: Pointer? = null
    @JvmField var listeners_len: Long = 0
    @JvmField var dispatch_mode: Int = 0
    @JvmField var listener_grace_ms: Int = 0
}

@Structure.FieldOrder("uid", "name", "avatar", "role", "status", "last_active_at", "deactivated", "json")
internal class chinwag_user(p: Pointer? = null) : CStruct(p) {
    @JvmField var uid: Pointer? = null
    @JvmField var name: Pointer? = null
    @JvmField var avatar: Pointer? = null
    @JvmField var role: Pointer? = null
    @JvmField var status: Int = 0
    @JvmField var last_active_at: Long = 0
    @JvmField var deactivated: Byte = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("id", "muid", "sender", "receiver_type", "receiver", "conversation_id", "category", "message_type", "text", "data_json", "parent_id", "sent_at", "edited_at", "deleted_at", "json", "mentioned_users", "mentioned_users_len", "mentions_me", "reply_count", "last_reply_at")
internal class chinwag_message(p: Pointer? = null) : CStruct(p) {
    @JvmField var id: Long = 0
    @JvmField var muid: Pointer? = null
    @JvmField var sender: Pointer? = null
    @JvmField var receiver_type: Int = 0
    @JvmField var receiver: Pointer? = null
    @JvmField var conversation_id: Pointer? = null
    @JvmField var category: Pointer? = null
    @JvmField var message_type: Pointer? = null
    @JvmField var text: Pointer? = null
    @JvmField var data_json: Pointer? = null
    @JvmField var parent_id: Long = 0
    @JvmField var sent_at: Long = 0
    @JvmField var edited_at: Long = 0
    @JvmField var deleted_at: Long = 0
    @JvmField var json: Pointer? = null
    @JvmField var mentioned_users: Pointer? = null
    @JvmField var mentioned_users_len: Long = 0
    @JvmField var mentions_me: Byte = 0
    @JvmField var reply_count: Long = 0
    @JvmField var last_reply_at: Long = 0
}

@Structure.FieldOrder("guid", "name", "group_type", "description", "owner", "members_count", "created_at", "scope", "metadata_json", "json")
internal class chinwag_group(p: Pointer? = null) : CStruct(p) {
    @JvmField var guid: Pointer? = null
    @JvmField var name: Pointer? = null
    @JvmField var group_type: Int = 0
    @JvmField var description: Pointer? = null
    @JvmField var owner: Pointer? = null
    @JvmField var members_count: Long = 0
    @JvmField var created_at: Long = 0
    @JvmField var scope: Pointer? = null
    @JvmField var metadata_json: Pointer? = null
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("user", "scope", "joined_at", "json")
internal class chinwag_group_member(p: Pointer? = null) : CStruct(p) {
    @JvmField var user: chinwag_user = chinwag_user()
    @JvmField var scope: Pointer? = null
    @JvmField var joined_at: Long = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("action", "guid", "group_name", "member", "by", "scope", "old_scope", "at", "json")
internal class chinwag_group_member_event(p: Pointer? = null) : CStruct(p) {
    @JvmField var action: Int = 0
    @JvmField var guid: Pointer? = null
    @JvmField var group_name: Pointer? = null
    @JvmField var member: Pointer? = null
    @JvmField var by: Pointer? = null
    @JvmField var scope: Pointer? = null
    @JvmField var old_scope: Pointer? = null
    @JvmField var at: Long = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("kind", "by", "message_id", "message_sender", "conversation_id", "receiver_type", "receiver", "at", "json")
internal class chinwag_receipt(p: Pointer? = null) : CStruct(p) {
    @JvmField var kind: Int = 0
    @JvmField var by: Pointer? = null
    @JvmField var message_id: Long = 0
    @JvmField var message_sender: Pointer? = null
    @JvmField var conversation_id: Pointer? = null
    @JvmField var receiver_type: Int = 0
    @JvmField var receiver: Pointer? = null
    @JvmField var at: Long = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("items", "len", "next_after", "json")
internal class chinwag_group_page(p: Pointer? = null) : CStruct(p) {
    @JvmField var items: Pointer? = null
    @JvmField var len: Long = 0
    @JvmField var next_after: Pointer? = null
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("items", "len", "json")
internal class chinwag_member_list(p: Pointer? = null) : CStruct(p) {
    @JvmField var items: Pointer? = null
    @JvmField var len: Long = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("previous", "current", "reason", "message", "retry_in_ms", "json")
internal class chinwag_state_change(p: Pointer? = null) : CStruct(p) {
    @JvmField var previous: Int = 0
    @JvmField var current: Int = 0
    @JvmField var reason: Int = 0
    @JvmField var message: Pointer? = null
    @JvmField var retry_in_ms: Long = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("feature", "duration_ms", "json")
internal class chinwag_feature_change(p: Pointer? = null) : CStruct(p) {
    @JvmField var feature: Pointer? = null
    @JvmField var duration_ms: Long = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("struct_size", "on_state_changed", "on_connecting", "on_connected", "on_disconnected", "on_connection_error", "on_feature_throttled", "on_feature_unthrottled")
internal class chinwag_connection_listener(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var on_state_changed: StateChangeCb? = null
    @JvmField var on_connecting: StateChangeCb? = null
    @JvmField var on_connected: StateChangeCb? = null
    @JvmField var on_disconnected: StateChangeCb? = null
    @JvmField var on_connection_error: ErrorCb? = null
    @JvmField var on_feature_throttled: FeatureCb? = null
    @JvmField var on_feature_unthrottled: FeatureCb? = null
}

@Structure.FieldOrder("struct_size", "on_login_success", "on_login_failure", "on_logout_success", "on_logout_failure", "on_session_expired")
internal class chinwag_login_listener(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var on_login_success: UserCb? = null
    @JvmField var on_login_failure: ErrorCb? = null
    @JvmField var on_logout_success: NoticeCb? = null
    @JvmField var on_logout_failure: ErrorCb? = null
    @JvmField var on_session_expired: ErrorCb? = null
}

@Structure.FieldOrder("sender", "receiver_type", "receiver", "metadata_json", "json")
internal class chinwag_typing(p: Pointer? = null) : CStruct(p) {
    @JvmField var sender: Pointer? = null
    @JvmField var receiver_type: Int = 0
    @JvmField var receiver: Pointer? = null
    @JvmField var metadata_json: Pointer? = null
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("sender", "receiver_type", "receiver", "data_json", "json")
internal class chinwag_transient(p: Pointer? = null) : CStruct(p) {
    @JvmField var sender: Pointer? = null
    @JvmField var receiver_type: Int = 0
    @JvmField var receiver: Pointer? = null
    @JvmField var data_json: Pointer? = null
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("from_seq", "to_seq", "json")
internal class chinwag_gap(p: Pointer? = null) : CStruct(p) {
    @JvmField var from_seq: Long = 0
    @JvmField var to_seq: Long = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("struct_size", "on_text_message_received", "on_media_message_received", "on_custom_message_received", "on_message_edited", "on_message_deleted", "on_typing_started", "on_typing_ended", "on_messages_delivered", "on_messages_read", "on_transient_message_received", "on_gap", "on_conversation_updated", "on_thread_updated")
internal class chinwag_message_listener(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var on_text_message_received: MessageCb? = null
    @JvmField var on_media_message_received: MessageCb? = null
    @JvmField var on_custom_message_received: MessageCb? = null
    @JvmField var on_message_edited: MessageCb? = null
    @JvmField var on_message_deleted: MessageCb? = null
    @JvmField var on_typing_started: TypingCb? = null
    @JvmField var on_typing_ended: TypingCb? = null
    @JvmField var on_messages_delivered: ReceiptCb? = null
    @JvmField var on_messages_read: ReceiptCb? = null
    @JvmField var on_transient_message_received: TransientCb? = null
    @JvmField var on_gap: GapCb? = null
    @JvmField var on_conversation_updated: ConversationCb? = null
    @JvmField var on_thread_updated: MessageCb? = null
}

@Structure.FieldOrder("uid", "status", "last_active_at", "json")
internal class chinwag_presence(p: Pointer? = null) : CStruct(p) {
    @JvmField var uid: Pointer? = null
    @JvmField var status: Int = 0
    @JvmField var last_active_at: Long = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("struct_size", "on_user_online", "on_user_offline")
internal class chinwag_user_listener(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var on_user_online: PresenceCb? = null
    @JvmField var on_user_offline: PresenceCb? = null
}

@Structure.FieldOrder("struct_size", "on_member_joined", "on_member_left", "on_member_kicked", "on_member_banned", "on_member_unbanned", "on_member_scope_changed", "on_member_added")
internal class chinwag_group_listener(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var on_member_joined: GroupMemberCb? = null
    @JvmField var on_member_left: GroupMemberCb? = null
    @JvmField var on_member_kicked: GroupMemberCb? = null
    @JvmField var on_member_banned: GroupMemberCb? = null
    @JvmField var on_member_unbanned: GroupMemberCb? = null
    @JvmField var on_member_scope_changed: GroupMemberCb? = null
    @JvmField var on_member_added: GroupMemberCb? = null
}

@Structure.FieldOrder("struct_size", "on_incoming_call_received", "on_outgoing_call_accepted", "on_outgoing_call_rejected", "on_incoming_call_cancelled", "on_call_ended")
internal class chinwag_call_listener(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var on_incoming_call_received: CallCb? = null
    @JvmField var on_outgoing_call_accepted: CallCb? = null
    @JvmField var on_outgoing_call_rejected: CallCb? = null
    @JvmField var on_incoming_call_cancelled: CallCb? = null
    @JvmField var on_call_ended: CallCb? = null
}

@Structure.FieldOrder("struct_size", "on_log")
internal class chinwag_log_listener(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var on_log: LogCb? = null
}

@Structure.FieldOrder("struct_size", "limit", "category", "message_type", "from_message_id")
internal class chinwag_messages_request_options(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var limit: Int = 0
    @JvmField var category: Pointer? = null
    @JvmField var message_type: Pointer? = null
    @JvmField var from_message_id: Long = 0
}

@Structure.FieldOrder("items", "len", "has_more", "json")
internal class chinwag_message_page(p: Pointer? = null) : CStruct(p) {
    @JvmField var items: Pointer? = null
    @JvmField var len: Long = 0
    @JvmField var has_more: Byte = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("struct_size", "limit", "search", "status", "role")
internal class chinwag_users_request_options(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var limit: Int = 0
    @JvmField var search: Pointer? = null
    @JvmField var status: Pointer? = null
    @JvmField var role: Pointer? = null
}

@Structure.FieldOrder("items", "len", "has_more", "json")
internal class chinwag_user_page(p: Pointer? = null) : CStruct(p) {
    @JvmField var items: Pointer? = null
    @JvmField var len: Long = 0
    @JvmField var has_more: Byte = 0
    @JvmField var json: Pointer? = null
}
@Structure.FieldOrder("conversation_id", "conversation_type", "with_id", "user", "group", "last_message", "unread_count", "last_read_message_id", "last_delivered_message_id", "updated_at", "deleted", "json", "unread_mentions_count")
internal class chinwag_conversation(p: Pointer? = null) : CStruct(p) {
    @JvmField var conversation_id: Pointer? = null
    @JvmField var conversation_type: Int = 0
    @JvmField var with_id: Pointer? = null
    @JvmField var user: Pointer? = null
    @JvmField var group: Pointer? = null
    @JvmField var last_message: Pointer? = null
    @JvmField var unread_count: Long = 0
    @JvmField var last_read_message_id: Long = 0
    @JvmField var last_delivered_message_id: Long = 0
    @JvmField var updated_at: Long = 0
    @JvmField var deleted: Byte = 0
    @JvmField var json: Pointer? = null
    @JvmField var unread_mentions_count: Long = 0
}

@Structure.FieldOrder("items", "len", "has_more", "json")
internal class chinwag_conversation_page(p: Pointer? = null) : CStruct(p) {
    @JvmField var items: Pointer? = null
    @JvmField var len: Long = 0
    @JvmField var has_more: Byte = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("conversation_type", "with_id", "unread_count")
internal class chinwag_unread_count(p: Pointer? = null) : CStruct(p) {
    @JvmField var conversation_type: Int = 0
    @JvmField var with_id: Pointer? = null
    @JvmField var unread_count: Long = 0
}

@Structure.FieldOrder("total", "items", "len", "json")
internal class chinwag_unread_counts(p: Pointer? = null) : CStruct(p) {
    @JvmField var total: Long = 0
    @JvmField var items: Pointer? = null
    @JvmField var len: Long = 0
    @JvmField var json: Pointer? = null
}

@Structure.FieldOrder("struct_size", "limit", "filter", "unread_only")
internal class chinwag_conversations_request_options(p: Pointer? = null) : CStruct(p) {
    @JvmField var struct_size: Long = 0
    @JvmField var limit: Int = 0
    @JvmField var filter: Int = 0
    @JvmField var unread_only: Int = 0
}

/**
 * The exported functions, bound by `Native.register` when the library is loaded. A completion
 * (`done`) is passed as its trampoline's address (`T`'s completions): given a `Callback`
 * object, JNA would call back into Java on every call to look the trampoline up.
 */
internal object Lib {
    fun bind(library: NativeLibrary) {
        Native.register(Lib::class.java, library)
    }

    @JvmStatic external fun chinwag_version(): Pointer?
    @JvmStatic external fun chinwag_abi_version(): Int
    @JvmStatic external fun chinwag_client_initiate_call(client: Pointer?, receiverType: Int, receiver: ByteArray?, callType: Int, done: Pointer?, userData: Pointer?, outSessionId: LongArray?): Int
    @JvmStatic external fun chinwag_client_accept_call(client: Pointer?, sessionId: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_reject_call(client: Pointer?, sessionId: ByteArray?, busy: Boolean, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_cancel_call(client: Pointer?, sessionId: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_end_call(client: Pointer?, sessionId: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_active_call(client: Pointer?, outCall: LongArray?): Int
    @JvmStatic external fun chinwag_client_init(appId: ByteArray?, settings: chinwag_settings?, out: LongArray?): Int
    @JvmStatic external fun chinwag_client_free(client: Pointer?)
    @JvmStatic external fun chinwag_client_login(client: Pointer?, uid: ByteArray?, authKey: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_login_with_token(client: Pointer?, token: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_logout(client: Pointer?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_logged_in_user(client: Pointer?, outJson: LongArray?): Int
    @JvmStatic external fun chinwag_client_connection_status(client: Pointer?, outState: IntArray?): Int
    @JvmStatic external fun chinwag_client_connect(client: Pointer?): Int
    @JvmStatic external fun chinwag_client_disconnect(client: Pointer?): Int
    @JvmStatic external fun chinwag_client_network_changed(client: Pointer?, network: Int): Int
    @JvmStatic external fun chinwag_client_app_state_changed(client: Pointer?, appState: Int): Int
    @JvmStatic external fun chinwag_client_send_text(client: Pointer?, receiverType: Int, receiver: ByteArray?, text: ByteArray?, done: Pointer?, userData: Pointer?, outMuid: LongArray?): Int
    @JvmStatic external fun chinwag_client_send_custom(client: Pointer?, receiverType: Int, receiver: ByteArray?, customType: ByteArray?, dataJson: ByteArray?, done: Pointer?, userData: Pointer?, outMuid: LongArray?): Int
    @JvmStatic external fun chinwag_client_send_message(client: Pointer?, messageJson: ByteArray?, done: Pointer?, userData: Pointer?, outMuid: LongArray?): Int
    @JvmStatic external fun chinwag_client_start_typing(client: Pointer?, receiverType: Int, receiver: ByteArray?): Int
    @JvmStatic external fun chinwag_client_end_typing(client: Pointer?, receiverType: Int, receiver: ByteArray?): Int
    @JvmStatic external fun chinwag_client_mark_delivered(client: Pointer?, messageId: Long): Int
    @JvmStatic external fun chinwag_client_mark_read(client: Pointer?, messageId: Long): Int
    @JvmStatic external fun chinwag_client_send_transient(client: Pointer?, receiverType: Int, receiver: ByteArray?, dataJson: ByteArray?): Int
    @JvmStatic external fun chinwag_message_copy(src: Pointer?, out: LongArray?): Int
    @JvmStatic external fun chinwag_message_free(copy: Pointer?)
    @JvmStatic external fun chinwag_user_copy(src: Pointer?, out: LongArray?): Int
    @JvmStatic external fun chinwag_user_free(copy: Pointer?)
    @JvmStatic external fun chinwag_group_copy(src: Pointer?, out: LongArray?): Int
    @JvmStatic external fun chinwag_group_free(copy: Pointer?)
    @JvmStatic external fun chinwag_group_member_copy(src: Pointer?, out: LongArray?): Int
    @JvmStatic external fun chinwag_group_member_free(copy: Pointer?)
    @JvmStatic external fun chinwag_group_member_event_copy(src: Pointer?, out: LongArray?): Int
    @JvmStatic external fun chinwag_group_member_event_free(copy: Pointer?)
    @JvmStatic external fun chinwag_call_copy(src: Pointer?, out: LongArray?): Int
    @JvmStatic external fun chinwag_call_free(copy: Pointer?)
    @JvmStatic external fun chinwag_receipt_copy(src: Pointer?, out: LongArray?): Int
    @JvmStatic external fun chinwag_receipt_free(copy: Pointer?)
    @JvmStatic external fun chinwag_client_dispatch_fd(client: Pointer?, outFd: IntArray?): Int
    @JvmStatic external fun chinwag_client_dispatch(client: Pointer?, maxItems: Long, outRan: LongArray?): Int
    @JvmStatic external fun chinwag_result_name(result: Int): Pointer?
    @JvmStatic external fun chinwag_last_error_message(buf: ByteArray?, len: Long, written: LongArray?): Int
    @JvmStatic external fun chinwag_string_free(string: Pointer?)
    @JvmStatic external fun chinwag_client_create_group(client: Pointer?, guid: ByteArray?, name: ByteArray?, groupType: Int, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_get_group(client: Pointer?, guid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_join_group(client: Pointer?, guid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_leave_group(client: Pointer?, guid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_list_groups(client: Pointer?, joined: Boolean, after: ByteArray?, limit: Int, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_group_members(client: Pointer?, guid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_add_group_members(client: Pointer?, guid: ByteArray?, uids: Pointer?, scopes: IntArray?, count: Long, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_kick_group_member(client: Pointer?, guid: ByteArray?, uid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_ban_group_member(client: Pointer?, guid: ByteArray?, uid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_unban_group_member(client: Pointer?, guid: ByteArray?, uid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_change_group_member_scope(client: Pointer?, guid: ByteArray?, uid: ByteArray?, scope: Int, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_add_connection_listener(client: Pointer?, id: ByteArray?, listener: chinwag_connection_listener?, userData: Pointer?, userDataFree: UserDataFreeCb?): Int
    @JvmStatic external fun chinwag_client_remove_connection_listener(client: Pointer?, id: ByteArray?): Int
    @JvmStatic external fun chinwag_client_add_login_listener(client: Pointer?, id: ByteArray?, listener: chinwag_login_listener?, userData: Pointer?, userDataFree: UserDataFreeCb?): Int
    @JvmStatic external fun chinwag_client_remove_login_listener(client: Pointer?, id: ByteArray?): Int
    @JvmStatic external fun chinwag_client_add_message_listener(client: Pointer?, id: ByteArray?, listener: chinwag_message_listener?, userData: Pointer?, userDataFree: UserDataFreeCb?): Int
    @JvmStatic external fun chinwag_client_remove_message_listener(client: Pointer?, id: ByteArray?): Int
    @JvmStatic external fun chinwag_client_add_user_listener(client: Pointer?, id: ByteArray?, listener: chinwag_user_listener?, userData: Pointer?, userDataFree: UserDataFreeCb?): Int
    @JvmStatic external fun chinwag_client_remove_user_listener(client: Pointer?, id: ByteArray?): Int
    @JvmStatic external fun chinwag_client_add_group_listener(client: Pointer?, id: ByteArray?, listener: chinwag_group_listener?, userData: Pointer?, userDataFree: UserDataFreeCb?): Int
    @JvmStatic external fun chinwag_client_remove_group_listener(client: Pointer?, id: ByteArray?): Int
    @JvmStatic external fun chinwag_client_add_call_listener(client: Pointer?, id: ByteArray?, listener: chinwag_call_listener?, userData: Pointer?, userDataFree: UserDataFreeCb?): Int
    @JvmStatic external fun chinwag_client_remove_call_listener(client: Pointer?, id: ByteArray?): Int
    @JvmStatic external fun chinwag_client_add_log_listener(client: Pointer?, id: ByteArray?, listener: chinwag_log_listener?, userData: Pointer?, userDataFree: UserDataFreeCb?): Int
    @JvmStatic external fun chinwag_client_remove_log_listener(client: Pointer?, id: ByteArray?): Int
    @JvmStatic external fun chinwag_client_send_media(client: Pointer?, receiverType: Int, receiver: ByteArray?, mediaType: ByteArray?, url: ByteArray?, caption: ByteArray?, metadataJson: ByteArray?, done: Pointer?, userData: Pointer?, outMuid: LongArray?): Int
    @JvmStatic external fun chinwag_client_edit_message(client: Pointer?, messageId: Long, text: ByteArray?, dataJson: ByteArray?, metadataJson: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_delete_message(client: Pointer?, messageId: Long, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_messages_request_new(receiverType: Int, receiver: ByteArray?, options: chinwag_messages_request_options?, out: LongArray?): Int
    @JvmStatic external fun chinwag_thread_request_new(parentId: Long, options: chinwag_messages_request_options?, out: LongArray?): Int
    @JvmStatic external fun chinwag_messages_request_free(request: Pointer?)
    @JvmStatic external fun chinwag_client_fetch_previous(client: Pointer?, request: Pointer?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_fetch_next(client: Pointer?, request: Pointer?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_users_request_new(options: chinwag_users_request_options?, out: LongArray?): Int
    @JvmStatic external fun chinwag_users_request_free(request: Pointer?)
    @JvmStatic external fun chinwag_client_fetch_users(client: Pointer?, request: Pointer?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_store_reply_set(reply: Pointer?, sessionJson: ByteArray?): Int
    @JvmStatic external fun chinwag_connection_state_name(state: Int): Pointer?
    @JvmStatic external fun chinwag_state_reason_name(reason: Int): Pointer?
    @JvmStatic external fun chinwag_client_create_user(client: Pointer?, uid: ByteArray?, name: ByteArray?, authKey: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_get_logged_in_user(client: Pointer?, outUser: LongArray?): Int
    @JvmStatic external fun chinwag_client_get_user(client: Pointer?, uid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_add_friend(client: Pointer?, uid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_remove_friend(client: Pointer?, uid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_friends(client: Pointer?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_conversations_request_new(options: chinwag_conversations_request_options?, out: LongArray?): Int
    @JvmStatic external fun chinwag_conversations_request_free(request: Pointer?)
    @JvmStatic external fun chinwag_client_fetch_conversations(client: Pointer?, request: Pointer?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_get_conversation(client: Pointer?, conversationType: Int, withId: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_get_unread_counts(client: Pointer?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_delete_conversation(client: Pointer?, conversationType: Int, withId: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_block_user(client: Pointer?, uid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_unblock_user(client: Pointer?, uid: ByteArray?, done: Pointer?, userData: Pointer?): Int
    @JvmStatic external fun chinwag_client_blocked_users(client: Pointer?, done: Pointer?, userData: Pointer?): Int
}
