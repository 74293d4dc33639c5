package io.chinwag

// Immutable copies of the C payloads (which are valid only during a callback). Each keeps the
// library's full JSON of the object in `json` for fields this model does not name.

data class User(
    val uid: String,
    val name: String,
    val avatar: String?,
    val role: String,
    val status: UserStatus,
    /** Epoch milliseconds; 0 if unknown. */
    val lastActiveAt: Long,
    val deactivated: Boolean,
    val json: String,
)

data class Message(
    /** Server-assigned, increasing in store order. */
    val id: Long,
    val muid: String,
    val sender: String,
    val receiverType: ReceiverType,
    val receiver: String,
    val conversationId: String,
    /** `"message"` or `"custom"`. */
    val category: String,
    /** `"text"`, a media type or a custom type. */
    val type: String,
    val text: String?,
    val dataJson: String?,
    /** 0 if not a thread reply. */
    val parentId: Long,
    val sentAt: Long,
    val editedAt: Long,
    val deletedAt: Long,
    val json: String,
    /** The users the text mentioned (`<@uid:UID>`) when sent. */
    val mentionedUsers: List<String> = emptyList(),
    /** The logged-in user is among [mentionedUsers]. */
    val mentionsMe: Boolean = false,
    /** How many replies name this message as their parent (its thread). */
    val replyCount: Long = 0,
    /** When the latest reply was sent; 0 without replies. */
    val lastReplyAt: Long = 0,
)

data class Receipt(
    val kind: ReceiptKind,
    val by: String,
    val messageId: Long,
    val messageSender: String,
    val conversationId: String,
    val receiverType: ReceiverType,
    val receiver: String,
    val at: Long,
    val json: String,
)

data class Group(
    val guid: String,
    val name: String,
    val type: GroupType,
    val description: String?,
    val owner: String,
    val membersCount: Long,
    val createdAt: Long,
    /** The logged-in user's scope (`"participant"`, `"moderator"`, `"admin"`); null if not a member. */
    val scope: String?,
    val metadataJson: String,
    val json: String,
)

data class GroupMember(val user: User, val scope: String, val joinedAt: Long, val json: String)

data class GroupMemberEvent(
    val action: GroupAction,
    val guid: String,
    val groupName: String,
    val member: String,
    val by: String,
    val scope: String?,
    val oldScope: String?,
    val at: Long,
    val json: String,
)

data class Call(
    val sessionId: String,
    val initiator: String,
    val receiverType: ReceiverType,
    val receiver: String,
    /** `"audio"` or `"video"`. */
    val type: String,
    /** `"initiated"`, `"ongoing"`, `"rejected"`, `"busy"`, `"cancelled"`, `"unanswered"` or `"ended"`. */
    val status: String,
    val by: String,
    val initiatedAt: Long,
    val joinedAt: Long,
    val endedAt: Long,
    val json: String,
)

data class StateChange(
    val previous: ConnectionState,
    val current: ConnectionState,
    /** Null only for a reason this binding does not know (a newer library). */
    val reason: StateReason?,
    val reasonName: String,
    val message: String,
    /** In RECONNECTING and SUSPENDED: milliseconds until the next attempt; otherwise -1. */
    val retryInMs: Long,
    val json: String,
)

data class FeatureChange(val feature: String, val durationMs: Long, val json: String)

data class Typing(
    val sender: String,
    val receiverType: ReceiverType,
    val receiver: String,
    val metadataJson: String?,
    val json: String,
)

data class Transient(val sender: String, val receiverType: ReceiverType, val receiver: String, val dataJson: String, val json: String)

data class Gap(val fromSeq: Long, val toSeq: Long, val json: String)

data class PresenceChange(val uid: String, val status: UserStatus, val lastActiveAt: Long, val json: String)

data class LogRecord(val level: LogLevel, val target: String, val message: String)

/** A page of a conversation's history, oldest first; [hasMore]: more beyond it in the direction fetched. */
data class MessagePage(val messages: List<Message>, val hasMore: Boolean, val json: String)

/** A page (or complete list) of users. */
data class UserPage(val users: List<User>, val hasMore: Boolean, val json: String)

/** A page of groups; pass [nextAfter] to fetch the next one (null on the last page). */
data class GroupPage(val groups: List<Group>, val nextAfter: String?, val json: String)


/** One conversation as the logged-in user sees it: the other [user] or the [group], the last message, the badges. */
data class Conversation(
    val conversationId: String,
    val conversationType: ReceiverType,
    /** The other user's uid, or the guid. */
    val withId: String,
    val user: User?,
    val group: Group?,
    val lastMessage: Message?,
    val unreadCount: Long,
    /** Of the unread messages, those that mention the logged-in user. */
    val unreadMentionsCount: Long,
    val lastReadMessageId: Long,
    val lastDeliveredMessageId: Long,
    val updatedAt: Long,
    /** Only in [MessageListener.onConversationUpdated]: the user deleted it. */
    val deleted: Boolean,
    val json: String,
)

/** A page of conversations, newest last message first. */
data class ConversationPage(val conversations: List<Conversation>, val hasMore: Boolean, val json: String)

/** Unread messages overall, per user (uid) and per group (guid); only conversations with unread messages. */
data class UnreadCounts(val total: Long, val users: Map<String, Long>, val groups: Map<String, Long>, val json: String)
