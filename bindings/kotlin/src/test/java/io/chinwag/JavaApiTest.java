package io.chinwag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The binding from Java: the builder, completions, listeners with default methods, exceptions. */
class JavaApiTest {
    static <T> Completion<T> into(CompletableFuture<T> f) {
        return new Completion<T>() {
            @Override
            public void onSuccess(T value) {
                f.complete(value);
            }

            @Override
            public void onError(ChinwagException error) {
                f.completeExceptionally(error);
            }
        };
    }

    @Test
    void javaAppsUseCompletionsAndListeners() throws Exception {
        TestServer server = TestServer.Companion.getShared();
        String alice = TestServer.Companion.uid("java", server, null);
        String bob = TestServer.Companion.uid("java", server, null);
        CompletableFuture<Message> inbox = new CompletableFuture<>();
        CompletableFuture<StateChange> connected = new CompletableFuture<>();
        ClientSettings settings = ClientSettings.builder(server.getUrl())
                .autoConnect(false)
                .listener("ui", new ConnectionListener() { // only what it needs: the rest are no-op defaults
                    @Override
                    public void onConnected(StateChange change) {
                        connected.complete(change);
                    }
                })
                .build();
        try (ChinwagClient a = ChinwagClient.init(TestSupportKt.APP_ID, settings);
                ChinwagClient b = ChinwagClient.init(TestSupportKt.APP_ID, new ClientSettings(server.getUrl()))) {
            b.addMessageListener("inbox", new MessageListener() {
                @Override
                public void onTextMessageReceived(Message message) {
                    inbox.complete(message);
                }
            });
            CompletableFuture<User> login = new CompletableFuture<>();
            a.login(alice, TestSupportKt.AUTH_KEY, into(login));
            assertEquals(alice, login.get(15, TimeUnit.SECONDS).getUid());
            assertEquals(ConnectionState.DISCONNECTED, a.connectionStatus());
            a.connect();
            assertEquals(ConnectionState.CONNECTED, connected.get(15, TimeUnit.SECONDS).getCurrent());

            CompletableFuture<StateChange> bobConnected = new CompletableFuture<>();
            b.addConnectionListener("state", new ConnectionListener() {
                @Override
                public void onConnected(StateChange change) {
                    bobConnected.complete(change);
                }
            });
            b.login(bob, TestSupportKt.AUTH_KEY, into(new CompletableFuture<>()));
            bobConnected.get(15, TimeUnit.SECONDS);
            assertEquals(ConnectionState.CONNECTED, b.getConnectionState().getValue());
            CompletableFuture<Message> sent = new CompletableFuture<>();
            String muid = a.sendText(ReceiverType.USER, bob, "from Java", into(sent));
            assertEquals(muid, sent.get(15, TimeUnit.SECONDS).getMuid());
            assertEquals("from Java", inbox.get(15, TimeUnit.SECONDS).getText());

            ArgumentException e = assertThrows(ArgumentException.class, () -> a.sendText(ReceiverType.USER, "", "x", into(new CompletableFuture<>())));
            assertEquals(Codes.INVALID_ARGUMENT, e.getCode());
            assertTrue(e.getDetail().length() > 0);
        }
    }
}
